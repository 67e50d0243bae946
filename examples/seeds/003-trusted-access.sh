#!/usr/bin/env bash
# Seed 003, "AWS License Manager and AWS Organizations": the management account enables
# trusted access for License Manager with the Organizations CLI, which creates License
# Manager's service-linked roles in the organization's accounts; disabling it again produces
# no output either. (The seed writes the flag as --service-principle; the CLI's flag is
# --service-principal.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PRINCIPAL=license-manager.amazonaws.com
MGMT=$(aws sts get-caller-identity --query Account --output text)

step "Management account $MGMT: an organization with one member account"
aws organizations create-organization --feature-set ALL --query Organization.Id --output text
MEMBER=$(aws organizations create-account --account-name member --email member@example.com \
  --query CreateAccountStatus.AccountId --output text)
echo "member account $MEMBER"
# An administrator user, to look into the member account (the root user cannot assume roles).
aws iam create-user --user-name admin --query User.Arn --output text
aws iam attach-user-policy --user-name admin --policy-arn arn:aws:iam::aws:policy/AdministratorAccess
out=$(aws iam create-access-key --user-name admin --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
read -r ADMIN_KEY ADMIN_SECRET <<<"$out"

step "aws organizations enable-aws-service-access --service-principal $PRINCIPAL"
out=$(aws organizations enable-aws-service-access --service-principal "$PRINCIPAL")
check "enable-aws-service-access produces no output" "$out" ""
aws organizations list-aws-service-access-for-organization \
  --query 'EnabledServicePrincipals[].[ServicePrincipal,DateEnabled]' --output text
check "License Manager is a trusted service of the organization" \
  "$(aws organizations list-aws-service-access-for-organization \
      --query "length(EnabledServicePrincipals[?ServicePrincipal=='$PRINCIPAL'])" --output text)" 1

step "The service-linked roles License Manager uses"
role() { # ROLE_NAME: prints the role's ARN and the service that may assume it
  aws iam get-role --role-name "$1" \
    --query '[Role.Arn, Role.AssumeRolePolicyDocument.Statement[0].Principal.Service]' --output text
}
aws iam list-roles --path-prefix /aws-service-role/ --query 'Roles[].Arn' --output text | tr '\t' '\n'
check "management account: AWSServiceRoleForAWSLicenseManagerRole" \
  "$(role AWSServiceRoleForAWSLicenseManagerRole)" \
  "arn:aws:iam::$MGMT:role/aws-service-role/$PRINCIPAL/AWSServiceRoleForAWSLicenseManagerRole	$PRINCIPAL"
check "management account: the management-account role" \
  "$(role AWSServiceRoleForAWSLicenseManagerMasterAccountRole | cut -f1)" \
  "arn:aws:iam::$MGMT:role/aws-service-role/license-manager.master-account.amazonaws.com/AWSServiceRoleForAWSLicenseManagerMasterAccountRole"
use "$ADMIN_KEY" "$ADMIN_SECRET"
out=$(assume "arn:aws:iam::$MEMBER:role/OrganizationAccountAccessRole" look)
read -r K S T <<<"$out"
use "$K" "$S" "$T"
check "member account: the member-account role, for license-manager.member-account.amazonaws.com" \
  "$(role AWSServiceRoleForAWSLicenseManagerMemberAccountRole)" \
  "arn:aws:iam::$MEMBER:role/aws-service-role/license-manager.member-account.amazonaws.com/AWSServiceRoleForAWSLicenseManagerMemberAccountRole	license-manager.member-account.amazonaws.com"
expect_error "the roles cannot be modified while trusted access is enabled" UnmodifiableEntity \
  iam delete-role --role-name AWSServiceRoleForAWSLicenseManagerMemberAccountRole
use_root

step "aws organizations disable-aws-service-access --service-principal $PRINCIPAL"
out=$(aws organizations disable-aws-service-access --service-principal "$PRINCIPAL")
check "disable-aws-service-access produces no output" "$out" ""
check "License Manager is no longer a trusted service" \
  "$(aws organizations list-aws-service-access-for-organization \
      --query "length(EnabledServicePrincipals[?ServicePrincipal=='$PRINCIPAL'])" --output text)" 0

finish

# Seed 000's world, shared by 000-assume-role.sh and 000-grants.sh; sourced, not run.
#
# An organization whose management account is the billing account; a vendor account that
# issues the DataMasque license and grants it to the billing account (as AWS Marketplace does
# for a purchase), accepted and activated there; and a deployment account where DataMasque runs.

INSTANCE_ROLE=DataMasque-EC2-Role

seed000_world() {
  local out
  use_root
  BILLING=$(aws sts get-caller-identity --query Account --output text)

  step "Billing (management) account $BILLING: create the organization and two member accounts"
  aws organizations create-organization --feature-set ALL --query Organization.Id --output text
  VENDOR=$(aws organizations create-account --account-name vendor --email vendor@example.com \
    --query CreateAccountStatus.AccountId --output text)
  DEPLOYMENT=$(aws organizations create-account --account-name deployment --email deployment@example.com \
    --query CreateAccountStatus.AccountId --output text)
  echo "vendor account $VENDOR, deployment account $DEPLOYMENT"

  # The root user cannot assume roles, so an administrator user does the cross-account work.
  step "Billing account: an administrator user"
  aws iam create-user --user-name admin --query User.Arn --output text
  aws iam attach-user-policy --user-name admin --policy-arn arn:aws:iam::aws:policy/AdministratorAccess
  out=$(aws iam create-access-key --user-name admin --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
  read -r ADMIN_KEY ADMIN_SECRET <<<"$out"
  use "$ADMIN_KEY" "$ADMIN_SECRET"
  out=$(assume "arn:aws:iam::$VENDOR:role/OrganizationAccountAccessRole" setup)
  read -r VENDOR_KEY VENDOR_SECRET VENDOR_TOKEN <<<"$out"
  out=$(assume "arn:aws:iam::$DEPLOYMENT:role/OrganizationAccountAccessRole" setup)
  read -r DEPLOY_KEY DEPLOY_SECRET DEPLOY_TOKEN <<<"$out"

  step "Vendor account: issue the DataMasque license (2 seats) and grant it to the billing account"
  use "$VENDOR_KEY" "$VENDOR_SECRET" "$VENDOR_TOKEN"
  local year; year=$(date -u +%Y)
  LICENSE=$(aws license-manager create-license --license-name "DataMasque Enterprise" \
    --product-name DataMasque --product-sku DM-ENT --issuer Name=DataMasque --home-region "$AWS_DEFAULT_REGION" \
    --validity "Begin=$(date -u +%Y-%m-%dT00:00:00Z),End=$((year + 1))-12-31T23:59:59Z" \
    --entitlements Name=Seats,Unit=Count,MaxCount=2,AllowCheckIn=true \
    --beneficiary "$BILLING" --consumption-configuration 'ProvisionalConfiguration={MaxTimeToLiveInMinutes=60}' \
    --client-token seed000-license --query LicenseArn --output text)
  FINGERPRINT="aws:$VENDOR:DataMasque:issuer-fingerprint"
  echo "license $LICENSE"
  local purchase
  purchase=$(aws license-manager create-grant --client-token seed000-purchase --grant-name purchase \
    --license-arn "$LICENSE" --principals "arn:aws:iam::$BILLING:root" --home-region "$AWS_DEFAULT_REGION" \
    --allowed-operations CreateGrant CheckoutLicense CheckInLicense ExtendConsumptionLicense ListPurchasedLicenses \
    --query GrantArn --output text)

  step "Billing account: accept and activate the purchase grant"
  use "$ADMIN_KEY" "$ADMIN_SECRET"
  accept_and_activate "$purchase"
}

# accept_and_activate GRANT_ARN accepts a grant and activates it as the current identity, as
# the console's "Accept and activate" does.
accept_and_activate() {
  aws license-manager accept-grant --grant-arn "$1" --query '[GrantArn,Status]' --output text
  aws license-manager create-grant-version --grant-arn "$1" --status ACTIVE --client-token "activate-${1: -8}" \
    --query '[GrantArn,Status]' --output text
}

# seed000_instance_role POLICY_URL creates the deployment account's DataMasque instance role
# with the given inline policy, and an operator user (standing in for EC2, which hands an
# instance its role's credentials) that assumes it; it sets INSTANCE_KEY/SECRET/TOKEN.
seed000_instance_role() {
  step "Deployment account: the DataMasque instance role $INSTANCE_ROLE"
  use "$DEPLOY_KEY" "$DEPLOY_SECRET" "$DEPLOY_TOKEN"
  cat > "$WORK/instance-trust.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::$DEPLOYMENT:user/operator"},"Action":"sts:AssumeRole"}]}
JSON
  aws iam create-role --role-name "$INSTANCE_ROLE" --assume-role-policy-document "file://$WORK/instance-trust.json" \
    --query Role.Arn --output text
  aws iam put-role-policy --role-name "$INSTANCE_ROLE" --policy-name deployment --policy-document "$1"
  aws iam create-user --user-name operator --query User.Arn --output text
  cat > "$WORK/operator.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::$DEPLOYMENT:role/$INSTANCE_ROLE"}]}
JSON
  aws iam put-user-policy --user-name operator --policy-name assume-instance-role --policy-document "file://$WORK/operator.json"
  local key secret out
  out=$(aws iam create-access-key --user-name operator --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
  read -r key secret <<<"$out"
  use "$key" "$secret"
  out=$(assume "arn:aws:iam::$DEPLOYMENT:role/$INSTANCE_ROLE" i-0123456789abcdef0)
  read -r INSTANCE_KEY INSTANCE_SECRET INSTANCE_TOKEN <<<"$out"
}

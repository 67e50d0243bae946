#!/usr/bin/env bash
# Seed 000, assume-role approach: DataMasque in the deployment account assumes
# DataMasqueLicenseRole in the billing account, which holds the license, and checks a seat out
# and back in. Built from the seed's own policies (policies/000-*.json), ending in the seed's
# "Verifying the setup → Assume role" commands.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/000-world.sh"

seed000_world
LICENSE_ROLE="arn:aws:iam::$BILLING:role/DataMasqueLicenseRole"

step "Step 1, billing account: create DataMasqueLicenseRole (seed's trust and permissions policies)"
use "$ADMIN_KEY" "$ADMIN_SECRET"
aws iam create-role --role-name DataMasqueLicenseRole \
  --assume-role-policy-document "$(policy 000-license-role-trust.json \
    -e "s/<deployment-account-id>/$DEPLOYMENT/g" -e "s/<datamasque-role-name>/$INSTANCE_ROLE/g")" \
  --query Role.Arn --output text
aws iam put-role-policy --role-name DataMasqueLicenseRole --policy-name DataMasqueLicenseOperations \
  --policy-document "$(policy 000-license-role-permissions.json)"

# Step 2, deployment account: the instance role's policy is the seed's statement.
{ echo '{"Version": "2012-10-17", "Statement": ['
  sed "s/<billing-account-id>/$BILLING/g" "$POLICIES/000-deployment-assume-role-statement.json"
  echo ']}'; } > "$WORK/deployment.json"
seed000_instance_role "file://$WORK/deployment.json"
use "$INSTANCE_KEY" "$INSTANCE_SECRET" "$INSTANCE_TOKEN"

step "Verifying the setup: aws sts assume-role --role-arn $LICENSE_ROLE --role-session-name datamasque-verify-session"
out=$(assume "$LICENSE_ROLE" datamasque-verify-session)
read -r KEY SECRET TOKEN <<<"$out"
check "assume-role returned temporary credentials" "$([ -n "$KEY" ] && [ -n "$TOKEN" ] && echo yes)" yes
use "$KEY" "$SECRET" "$TOKEN"
check "get-caller-identity is the assumed role" "$(aws sts get-caller-identity --query Arn --output text)" \
  "arn:aws:sts::$BILLING:assumed-role/DataMasqueLicenseRole/datamasque-verify-session"

step "Verifying the setup: aws license-manager list-received-licenses (as the assumed role)"
aws license-manager list-received-licenses \
  --query 'Licenses[].[LicenseArn,ProductName,Status,ReceivedMetadata.ReceivedStatus]' --output text
check "the DataMasque license is listed" \
  "$(aws license-manager list-received-licenses --query 'length(Licenses[?ProductSKU==`DM-ENT`])' --output text)" 1
check "its received status is ACTIVE" \
  "$(aws license-manager list-received-licenses --query "Licenses[?LicenseArn=='$LICENSE'].ReceivedMetadata.ReceivedStatus | [0]" --output text)" ACTIVE

step "The product checks out both seats; a third copy gets none until one is checked in"
checkout() {
  aws license-manager checkout-license --product-sku DM-ENT --checkout-type PROVISIONAL \
    --key-fingerprint "$FINGERPRINT" --entitlements Name=Seats,Value=1,Unit=Count --client-token "$1" \
    --query '[LicenseArn,LicenseConsumptionToken]' --output text
}
out=$(checkout instance-1)
read -r CHECKED_OUT CONSUMPTION <<<"$out"
check "checkout-license (instance-1) took a seat of the license" "$CHECKED_OUT" "$LICENSE"
out=$(checkout instance-2)
check "checkout-license (instance-2) took the second seat" "${out%%$'\t'*}" "$LICENSE"
expect_error "checkout-license (instance-3) with both seats taken" NoEntitlementsAllowedException \
  license-manager checkout-license --product-sku DM-ENT --checkout-type PROVISIONAL \
  --key-fingerprint "$FINGERPRINT" --entitlements Name=Seats,Value=1,Unit=Count --client-token instance-3
aws license-manager check-in-license --license-consumption-token "$CONSUMPTION"
echo "checked in instance-1's seat"
out=$(checkout instance-3)
check "checkout-license (instance-3) after the check-in" "${out%%$'\t'*}" "$LICENSE"

# Troubleshooting row: the seed's role has no license-manager:ExtendLicenseConsumption.
expect_error "extend-license-consumption is not in the seed's policy" AccessDeniedException \
  license-manager extend-license-consumption --license-consumption-token "$CONSUMPTION"

finish

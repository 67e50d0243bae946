#!/usr/bin/env bash
# Seed 000, license-grants approach: the billing account grants its DataMasque license to the
# deployment account, which accepts (and activates) the grant; DataMasque there checks a seat
# out with its own instance role, no role assumption. Ends in the seed's "Verifying the setup
# → License grants" command.
#
# policies/000-deployment-grants.json is the instance role's policy: the permissions the seed's
# "IAM permissions reference" lists for the grants approach (it prints no document for it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/000-world.sh"

seed000_world
seed000_instance_role "$(policy 000-deployment-grants.json)"

step "Step 1, billing account: create a grant for the deployment account (CheckoutLicense, CheckInLicense)"
use "$ADMIN_KEY" "$ADMIN_SECRET"
out=$(aws license-manager create-grant --client-token seed000-deployment --grant-name "DataMasque deployment" \
  --license-arn "$LICENSE" --principals "arn:aws:iam::$DEPLOYMENT:root" --home-region "$AWS_DEFAULT_REGION" \
  --allowed-operations CheckoutLicense CheckInLicense --query '[GrantArn,Status]' --output text)
read -r GRANT STATUS <<<"$out"
check "the grant waits for the deployment account" "$STATUS" PENDING_ACCEPT

checkout() {
  aws license-manager checkout-license --product-sku DM-ENT --checkout-type PROVISIONAL \
    --key-fingerprint "$FINGERPRINT" --entitlements Name=Seats,Value=1,Unit=Count --client-token "$1" "${@:2}"
}
# Troubleshooting row: "Grant not visible in the deployment account — grant not yet accepted".
use "$INSTANCE_KEY" "$INSTANCE_SECRET" "$INSTANCE_TOKEN"
expect_error "checkout-license before the grant is accepted" NoEntitlementsAllowedException \
  license-manager checkout-license --product-sku DM-ENT --checkout-type PROVISIONAL \
  --key-fingerprint "$FINGERPRINT" --entitlements Name=Seats,Value=1,Unit=Count --client-token too-early

step "Step 2, deployment account: accept (and activate) the grant"
use "$DEPLOY_KEY" "$DEPLOY_SECRET" "$DEPLOY_TOKEN"
aws license-manager list-received-grants --query 'Grants[].[GrantArn,GrantName,GrantStatus]' --output text
accept_and_activate "$GRANT"

step "Verifying the setup: aws license-manager list-received-licenses (in the deployment account)"
use "$INSTANCE_KEY" "$INSTANCE_SECRET" "$INSTANCE_TOKEN"
aws license-manager list-received-licenses \
  --query 'Licenses[].[LicenseArn,ProductName,Status,ReceivedMetadata.ReceivedStatus]' --output text
check "the DataMasque license is listed" \
  "$(aws license-manager list-received-licenses --query 'length(Licenses[?ProductSKU==`DM-ENT`])' --output text)" 1
check "its received status is ACTIVE" \
  "$(aws license-manager list-received-licenses --query "Licenses[?LicenseArn=='$LICENSE'].ReceivedMetadata.ReceivedStatus | [0]" --output text)" ACTIVE

step "DataMasque checks out a seat with its own role, and checks it in at shutdown"
seats() {
  aws license-manager get-license-usage --license-arn "$LICENSE" \
    --query "LicenseUsage.EntitlementUsages[?Name=='Seats'].ConsumedValue | [0]" --output text
}
out=$(checkout deployment-1 --query '[LicenseArn,LicenseConsumptionToken]' --output text)
read -r CHECKED_OUT CONSUMPTION <<<"$out"
check "checkout-license took a seat of the license" "$CHECKED_OUT" "$LICENSE"
check "get-license-usage: Seats in use" "$(seats)" 1
aws license-manager check-in-license --license-consumption-token "$CONSUMPTION"
check "get-license-usage: Seats in use after check-in-license" "$(seats)" 0

finish

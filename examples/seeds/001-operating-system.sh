#!/usr/bin/env bash
# Seed 001, "Example: Implementing an Operating System License": physical cores counted, 96
# bought (a hard limit), each server 8 to 16 cores, on a non-virtualized host (Dedicated Hosts
# only). The license administrator attaches the configuration to the image IT launches from;
# launches that break a rule or the limit are refused, and terminating a server returns its
# cores. The seed prints no policy document: the rules are the seed's table, as CLI options.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

step "The license administrator describes the license (seed 001's table)"
LC=$(aws license-manager create-license-configuration \
  --name "Server OS" --description "96 cores, 8 to 16 per server, Dedicated Hosts only" \
  --license-counting-type Core --license-count 96 --license-count-hard-limit \
  --license-rules "#minimumCores=8" "#maximumCores=16" "#allowedTenancy=EC2-DedicatedHost" \
  --query LicenseConfigurationArn --output text)
echo "$LC"
aws license-manager get-license-configuration --license-configuration-arn "$LC" \
  --query '[LicenseCountingType,LicenseCount,LicenseCountHardLimit,join(`,`,LicenseRules)]' --output text

step "…and attaches it to the image IT launches servers from"
AMI=$(aws ec2 register-image --name server-os-2026 --query ImageId --output text)
aws license-manager update-license-specifications-for-resource \
  --resource-arn "arn:aws:ec2:$AWS_DEFAULT_REGION::image/$AMI" \
  --add-license-specifications "LicenseConfigurationArn=$LC"
echo "$AMI"

step "Three m5 Dedicated Hosts (48 cores each), six 16-core servers, two per host"
HOSTS=$(aws ec2 allocate-hosts --instance-family m5 --availability-zone "${AWS_DEFAULT_REGION}a" \
  --quantity 3 --query HostIds --output text)
read -r H1 _ <<<"$HOSTS"
launch() { # HOST_ID|"" TYPE
  local placement=()
  [ -n "$1" ] && placement=(--placement "Tenancy=host,HostId=$1")
  aws ec2 run-instances --image-id "$AMI" --instance-type "$2" --count 1 "${placement[@]}" \
    --query 'Instances[0].InstanceId' --output text
}
SERVERS=()
for H in $HOSTS $HOSTS; do
  SERVERS+=("$(launch "$H" m5.8xlarge)")
done
echo "${SERVERS[@]}"
consumed() {
  aws license-manager get-license-configuration --license-configuration-arn "$LC" --query ConsumedLicenses --output text
}
check "ConsumedLicenses after six servers" "$(consumed)" 96

step "Launches that break the license are refused before anything is created"
expect_error "a seventh 16-core server (hard limit of 96 cores)" LicenseUsageException \
  ec2 run-instances --image-id "$AMI" --instance-type m5.8xlarge --count 1 --placement "Tenancy=host,HostId=$H1"
expect_error "a 4-core server (#minimumCores=8)" LicenseUsageException \
  ec2 run-instances --image-id "$AMI" --instance-type m5.2xlarge --count 1 --placement "Tenancy=host,HostId=$H1"
expect_error "a 24-core server (#maximumCores=16)" LicenseUsageException \
  ec2 run-instances --image-id "$AMI" --instance-type m5.12xlarge --count 1 --placement "Tenancy=host,HostId=$H1"
expect_error "a server on shared tenancy (#allowedTenancy)" LicenseUsageException \
  ec2 run-instances --image-id "$AMI" --instance-type m5.8xlarge --count 1
check "instances after the refusals (nothing left behind)" \
  "$(aws ec2 describe-instances --query 'length(Reservations[].Instances[])' --output text)" 6

step "Terminating a server returns its 16 cores, and the next launch gets in"
aws ec2 terminate-instances --instance-ids "${SERVERS[0]}" \
  --query 'TerminatingInstances[].[InstanceId,CurrentState.Name]' --output text
check "ConsumedLicenses after terminate-instances" "$(consumed)" 80
NEXT=$(launch "$H1" m5.8xlarge)
echo "$NEXT"
check "ConsumedLicenses after the next launch" "$(consumed)" 96

step "Usage and refused operations"
aws license-manager list-usage-for-license-configuration --license-configuration-arn "$LC" \
  --query 'LicenseConfigurationUsageList[].[ResourceArn,ResourceStatus,ConsumedLicenses]' --output text
check "servers consuming the license" \
  "$(aws license-manager list-usage-for-license-configuration --license-configuration-arn "$LC" \
      --query 'length(LicenseConfigurationUsageList)' --output text)" 6
aws license-manager list-failures-for-license-configuration-operations --license-configuration-arn "$LC" \
  --query 'LicenseOperationFailureList[].[OperationName,ErrorMessage]' --output text
check "refused launches recorded" \
  "$(aws license-manager list-failures-for-license-configuration-operations --license-configuration-arn "$LC" \
      --query 'length(LicenseOperationFailureList)' --output text)" 4

finish

#!/usr/bin/env bash
# Seed 002, cross-account access to S3 and KMS: DataMasque runs as DM-Role in the source
# account 111111111111 and reads and writes a bucket encrypted with a KMS key in the target
# account 222222222222. The seed's advice, "test delegated access in a policy simulator before
# use", done with `aws iam simulate-custom-policy` on the seed's own policies
# (policies/002-*.json; the script fills <bucket-name>) and `simulate-principal-policy` on a
# role built from them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BUCKET=dm-target-bucket
ROLE=arn:aws:iam::111111111111:role/DM-Role
OBJECT="arn:aws:s3:::$BUCKET/masking/customers.csv"
KEY=arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab
# doc FILE prints a seed policy with <bucket-name> filled, for an argument: each argument of
# --policy-input-list is one policy document.
doc() { sed -e "s/<bucket-name>/$BUCKET/g" "$POLICIES/$1"; }
SOURCE=$(doc 002-source-account-policy.json)
KMS=$(doc 002-source-kms-policy.json)

# decision ACTION RESOURCE RESOURCE-POLICY-FILE IDENTITY-POLICY... prints the simulator's decision.
decision() {
  local action="$1" resource="$2" rp="$3"; shift 3
  aws iam simulate-custom-policy --resource-owner arn:aws:iam::222222222222:root --policy-input-list "$@" --action-names "$action" --resource-arns "$resource" \
    --resource-policy "$(policy "$rp" -e "s/<bucket-name>/$BUCKET/g")" --caller-arn "$ROLE" \
    --context-entries ContextKeyName=aws:SecureTransport,ContextKeyValues=true,ContextKeyType=boolean \
    --query 'EvaluationResults[0].EvalDecision' --output text
}

step "S3: the source account's policy with the target account's bucket policy"
aws iam simulate-custom-policy --resource-owner arn:aws:iam::222222222222:root --policy-input-list "$SOURCE" --action-names s3:GetObject s3:PutObject s3:DeleteObject \
  --resource-arns "$OBJECT" --resource-policy "$(policy 002-target-bucket-policy.json -e "s/<bucket-name>/$BUCKET/g")" \
  --caller-arn "$ROLE" --context-entries ContextKeyName=aws:SecureTransport,ContextKeyValues=true,ContextKeyType=boolean \
  --query 'EvaluationResults[].[EvalActionName,EvalDecision,join(`,`,MatchedStatements[].SourcePolicyId)]' --output text
check "s3:GetObject on $OBJECT" "$(decision s3:GetObject "$OBJECT" 002-target-bucket-policy.json "$SOURCE")" allowed
check "s3:PutObject on $OBJECT" "$(decision s3:PutObject "$OBJECT" 002-target-bucket-policy.json "$SOURCE")" allowed
check "s3:DeleteObject (not in the bucket policy)" "$(decision s3:DeleteObject "$OBJECT" 002-target-bucket-policy.json "$SOURCE")" implicitDeny
check "s3:GetObject with no identity policy allowing it" \
  "$(decision s3:GetObject "$OBJECT" 002-target-bucket-policy.json '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}')" implicitDeny
check "s3:GetObject over plain HTTP (AllowSSLRequestsOnly)" "$(aws iam simulate-custom-policy --resource-owner arn:aws:iam::222222222222:root --policy-input-list "$SOURCE" \
  --action-names s3:GetObject --resource-arns "$OBJECT" --resource-policy "$(policy 002-target-bucket-policy.json -e "s/<bucket-name>/$BUCKET/g")" \
  --caller-arn "$ROLE" --context-entries ContextKeyName=aws:SecureTransport,ContextKeyValues=false,ContextKeyType=boolean \
  --query 'EvaluationResults[0].EvalDecision' --output text)" explicitDeny

step "SSE-KMS: the role's KMS policy with the target account's key policy"
check "kms:Decrypt with the key policy and the KMS policy" "$(decision kms:Decrypt "$KEY" 002-target-key-policy.json "$SOURCE" "$KMS")" allowed
check "kms:GenerateDataKey with the key policy and the KMS policy" "$(decision kms:GenerateDataKey "$KEY" 002-target-key-policy.json "$SOURCE" "$KMS")" allowed
check "kms:Decrypt without the role's KMS policy" "$(decision kms:Decrypt "$KEY" 002-target-key-policy.json "$SOURCE")" implicitDeny
check "kms:Decrypt with the bucket policy in place of a key policy" "$(decision kms:Decrypt "$KEY" 002-target-bucket-policy.json "$SOURCE" "$KMS")" implicitDeny

step "simulate-principal-policy: DM-Role built in this account from the seed's policies"
ACCOUNT=$(aws sts get-caller-identity --query Account --output text)
cat > "$WORK/trust.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}
JSON
aws iam create-role --role-name DM-Role --assume-role-policy-document "file://$WORK/trust.json" --query Role.Arn --output text
aws iam put-role-policy --role-name DM-Role --policy-name source-account --policy-document "$(policy 002-source-account-policy.json)"
aws iam put-role-policy --role-name DM-Role --policy-name kms --policy-document "$(policy 002-source-kms-policy.json)"
principal() { # ACTION RESOURCE
  aws iam simulate-principal-policy --policy-source-arn "arn:aws:iam::$ACCOUNT:role/DM-Role" --action-names "$1" --resource-arns "$2" \
    --query 'EvaluationResults[0].[EvalDecision,MatchedStatements[0].SourcePolicyId]' --output text
}
check "DM-Role: s3:GetObject (its source-account policy)" "$(principal s3:GetObject "$OBJECT")" "allowed	role_DM-Role_source-account"
# The key is in the target account: the role's policy alone is not enough, the key policy must
# allow it too (simulate-principal-policy has no resource policy to add).
check "DM-Role: kms:Decrypt on the target account's key (no key policy)" "$(principal kms:Decrypt "$KEY" | cut -f1)" implicitDeny
check "DM-Role: s3:DeleteBucket (in no policy)" "$(principal s3:DeleteBucket "arn:aws:s3:::$BUCKET" | cut -f1)" implicitDeny

finish

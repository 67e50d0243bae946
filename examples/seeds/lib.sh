# Shared helpers for the seed examples; sourced by each script, not run on its own.
#
# Environment: ALLOT_ENDPOINT (e.g. http://127.0.0.1:7373), AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY of the management account's root, AWS_DEFAULT_REGION=us-east-1.
# AWS_CLI names the AWS CLI v2 binary when `aws` on PATH is another one.

: "${ALLOT_ENDPOINT:?set ALLOT_ENDPOINT to the Allot server URL, e.g. http://127.0.0.1:7373}"
: "${AWS_ACCESS_KEY_ID:?set AWS_ACCESS_KEY_ID to the management account root key}"
: "${AWS_SECRET_ACCESS_KEY:?set AWS_SECRET_ACCESS_KEY to the management account root secret}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_PAGER=""
AWS_CLI="${AWS_CLI:-aws}"
unset AWS_SESSION_TOKEN

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POLICIES="$HERE/policies"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
FAILED=0

# The root's credentials, kept so the script can switch identities and come back.
ROOT_KEY="$AWS_ACCESS_KEY_ID" ROOT_SECRET="$AWS_SECRET_ACCESS_KEY"

# aws runs the AWS CLI against Allot as the current identity.
aws() { "$AWS_CLI" --endpoint-url "$ALLOT_ENDPOINT" "$@"; }

# step prints what the script is about to do.
step() { printf '\n== %s\n' "$*"; }

# use KEY SECRET [TOKEN] switches the identity later aws calls run as.
use() {
  export AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2"
  if [ -n "${3:-}" ]; then export AWS_SESSION_TOKEN="$3"; else unset AWS_SESSION_TOKEN; fi
}
use_root() { use "$ROOT_KEY" "$ROOT_SECRET"; }

# assume ROLE_ARN SESSION prints "KEY SECRET TOKEN" of sts assume-role as the current identity.
assume() {
  aws sts assume-role --role-arn "$1" --role-session-name "$2" \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text
}

# policy NAME SED-ARGS... writes policies/NAME with the seed's placeholders substituted and
# prints a file:// URL for it.
policy() {
  local name="$1"; shift
  sed -e '' "$@" "$POLICIES/$name" > "$WORK/$name"
  printf 'file://%s' "$WORK/$name"
}

# check WHAT GOT WANT compares two strings and records a failure.
check() {
  if [ "$2" = "$3" ]; then
    printf 'CHECK %-60s ok (%s)\n' "$1" "$2"
  else
    printf 'CHECK %-60s FAILED: got %q, want %q\n' "$1" "$2" "$3"
    FAILED=1
  fi
}

# expect_error WHAT CODE aws-args... runs a command that must fail with the error CODE.
expect_error() {
  local what="$1" code="$2"; shift 2
  local out
  if out="$(aws "$@" 2>&1)"; then
    printf 'CHECK %-60s FAILED: succeeded, want %s\n' "$what" "$code"; FAILED=1
  elif printf '%s' "$out" | grep -q "($code)"; then
    printf 'CHECK %-60s ok (%s)\n' "$what" "$code"
    printf '%s\n' "$out" | sed -e '/^$/d' -e 's/^/      /'
  else
    printf 'CHECK %-60s FAILED: %s, want %s\n' "$what" "$out" "$code"; FAILED=1
  fi
}

# finish exits non-zero when any check failed.
finish() {
  if [ "$FAILED" -ne 0 ]; then echo; echo "FAILED: some checks did not pass"; exit 1; fi
  echo; echo "All checks passed."
}

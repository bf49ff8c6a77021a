#!/usr/bin/env bash
# Synthesizes the CDK app offline: no AWS account, no real credentials, no notices, no telemetry,
# no context lookups. The stage comes from STAGE (default dev); the template lands in cdk.out/.
# Fails (non-zero exit) when synthesis fails, e.g. on an unsuppressed cdk-nag error.
set -euo pipefail
cd "$(dirname "$0")/.."

# The CLI and aws-cdk-lib write caches under HOME and temp files under TMPDIR: keep them in the
# project's git-ignored .cache folder. No telemetry, no version check, no npm update check.
export HOME="$PWD/.cache/home" TMPDIR="$PWD/.cache/tmp"
export CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=true npm_config_update_notifier=false
# No credentials at all, and no metadata service or profile files: the CLI's look-up of the
# default account then ends at once without a request. (Even a fake key would make it call STS.)
# Account and Region stay unknown unless given (`-c account=... -c region=...`, or AWS_REGION):
# the template then names them with AWS::AccountId and AWS::Region and deploys to any.
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_PROFILE AWS_SESSION_TOKEN CDK_DEFAULT_ACCOUNT CDK_DEFAULT_REGION
mkdir -p "$HOME" "$TMPDIR"

exec npx cdk synth --quiet --no-notices --no-version-reporting --no-lookups -c stage="${STAGE:-dev}" "$@"

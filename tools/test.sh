#!/usr/bin/env bash
# Runs every test (bazel test //...) and ends with one line "N passed, N failed" counting test
# targets. Extra arguments go to bazel (for example --config=asan).
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
bazel test //... --test_summary=short "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -cE '^//\S+\s+(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//\S+\s+(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FLAKY|INCOMPLETE)|FAILED TO BUILD' "$log")
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a build error
echo "$passed passed, $failed failed"
exit "$status"

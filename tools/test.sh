#!/usr/bin/env bash
# Runs every test (bazel test //...) and the libFuzzer smoke (server/fuzz/run_fuzzers.sh, 10 s a
# target), and ends with one line "N passed, N failed" counting test targets (the fuzz smoke as
# one). Extra arguments go to bazel (for example --config=asan).
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
bazel test //... --test_summary=short "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -cE '^//\S+\s+(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//\S+\s+(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FLAKY|INCOMPLETE)|FAILED TO BUILD' "$log")
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a build error
# The libFuzzer targets (server/fuzz), each briefly from its seed corpus; counted as one target.
if fuzz_out=$(server/fuzz/run_fuzzers.sh 10 2>&1); then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  status=1
fi
echo "$fuzz_out" | tail -n 8
echo "$passed passed, $failed failed"
exit "$status"

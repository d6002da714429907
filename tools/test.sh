#!/usr/bin/env bash
# Runs every test (bazel test //...), a short subset again under ASan + UBSan (--config=asan;
# tools/sanitizers.sh runs them all) and the libFuzzer smoke (server/fuzz/run_fuzzers.sh, 10 s a
# target), and ends with one line "N passed, N failed" counting test targets (the sanitizer
# subset and the fuzz smoke as one each). Extra arguments go to bazel (for example
# --config=tsan).
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
bazel test //... --test_summary=short "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -cE '^//\S+\s+(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//\S+\s+(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FLAKY|INCOMPLETE)|FAILED TO BUILD' "$log")
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a build error
# The unit tests that need no model runtime (parsing, queueing, batch joining, metrics, logging,
# the clients' decoding, crash isolation in a child process), under ASan + UBSan (a few minutes
# to build); counted as one target.
asan_targets=(//core:core_test //server/wire:all //server:byte_budget_test
  //server:restricted_api_test //server:exception_status_test //server/http:json_codec_test
  //server/http:router_test //server/grpc:grpc_codec_test //server/scheduler:scheduler_test
  //server/scheduler:batch_tensors_test //core:thread_pool_test //server:metrics_test
  //server:logging_test //clients/http:http_client_test //clients:grpc_client_test
  //core:child_process_test)
if asan_out=$(bazel test --config=asan --test_summary=terse "${asan_targets[@]}" 2>&1); then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  status=1
  echo "$asan_out" | grep -vE 'linux-sandbox' | tail -n 40
fi
# The libFuzzer targets (server/fuzz), each briefly from its seed corpus; counted as one target.
# On a crash the sanitizer's report and the input (base64) are printed: CI keeps nothing else.
if fuzz_out=$(server/fuzz/run_fuzzers.sh 10 2>&1); then
  passed=$((passed + 1))
  echo "$fuzz_out" | tail -n 8
else
  failed=$((failed + 1))
  status=1
  echo "$fuzz_out" | grep -vE '^#[0-9]+ ' | tail -n 60
  work=$(echo "$fuzz_out" | sed -n 's/.*CRASH (input and log in \(.*\))$/\1/p')
  for f in "$work"/crash-* "$work"/oom-* "$work"/timeout-*; do
    [ -f "$f" ] && { echo "input $f:"; base64 -w 120 "$f" | head -c 20000; echo; }
  done
fi
echo "$passed passed, $failed failed"
exit "$status"

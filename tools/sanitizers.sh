#!/usr/bin/env bash
# Runs the tests under AddressSanitizer + UndefinedBehaviorSanitizer (bazel's --config=asan, in
# .bazelrc). With no arguments: every test (bazel test //...), which rebuilds everything with the
# sanitizers (an hour or more on 2 cores); with arguments: those targets. Timeouts are tripled,
# since sanitized code runs 2-5x slower. Prints Bazel's summary; exits non-zero on any failure,
# a sanitizer report included.
#
#   tools/sanitizers.sh [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(//...)
exec bazel test --config=asan --test_timeout=180,900,2700,10800 --test_summary=short \
  --keep_going "${targets[@]}"

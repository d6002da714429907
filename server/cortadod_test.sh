#!/usr/bin/env bash
# The daemon's command line: --help documents every flag, bad flags exit 2, a missing repository
# exits 1, the embedded repository is found without --model-repository from any working
# directory, explicit mode loads only --load-model models, SIGINT exits 0, OpenMP's idle
# spinning is bounded (GOMP_SPINCOUNT) unless the environment chose a wait policy, and the
# intra-op threads are the available CPUs unless --intra-op-thread-count says otherwise.
#
# Usage (from Bazel): cortadod_test.sh <cortadod> <a config.pbtxt of the embedded repository>
set -euo pipefail
cortadod="$(realpath "$1")"
tmp="${TEST_TMPDIR:-$(mktemp -d)}/cortadod_test"
rm -rf "$tmp"; mkdir -p "$tmp"
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/log" ] && tail -n 40 "$tmp/log"; exit 1; }

"$cortadod" --help >"$tmp/help" || fail "--help exited $?"
for flag in model-repository http-port grpc-port metrics-port model-control-mode \
    repository-poll-secs load-model http-thread-count infer-thread-count log-level log-format \
    log-access max-request-bytes http-max-input-size grpc-max-message-size exit-timeout-secs \
    http-header-timeout-secs http-max-connections max-inflight-bytes grpc-use-ssl \
    grpc-use-ssl-mutual grpc-server-cert grpc-server-key grpc-root-cert http-restricted-api \
    http-use-ssl http-use-ssl-mutual http-server-cert http-server-key http-root-cert \
    grpc-restricted-protocol; do
  grep -q -- "--$flag" "$tmp/help" || fail "--help does not document --$flag"
done
echo "ok: --help documents every flag"

expect_rc() {  # expect_rc RC ARGS...
  local want="$1"; shift
  local rc=0
  "$cortadod" "$@" >"$tmp/out" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || fail "cortadod $* exited $rc, expected $want: $(cat "$tmp/out")"
  echo "ok: cortadod $* -> $rc ($(head -c 200 "$tmp/out" | tr '\n' ' '))"
}
expect_rc 2 --no-such-flag
expect_rc 2 --http-port=notaport
expect_rc 2 --model-control-mode=sometimes
expect_rc 2 --log-format=xml
expect_rc 2 --log-level=loud
expect_rc 2 --load-model
expect_rc 1 --model-repository="$tmp/missing" --http-port=0 --grpc-port=0 --metrics-port=0

# Waits for "cortadod ready" in $tmp/log and sets http_port.
wait_ready() {
  for _ in $(seq 1 600); do
    grep -qs "cortadod ready" "$tmp/log" && break
    kill -0 "$pid" 2>/dev/null || fail "cortadod exited early"
    sleep 0.2
  done
  grep -q "cortadod ready" "$tmp/log" || fail "not ready"
  http_port=$(sed -n 's|.*HTTP endpoint: http://[^:]*:\([0-9]*\).*|\1|p' "$tmp/log" | head -1)
}
stop() {  # stop SIGNAL: expects exit 0
  kill "-$1" "$pid"
  local rc=0
  wait "$pid" || rc=$?
  pid=""
  [ "$rc" = 0 ] || fail "exit status $rc after SIG$1"
}

# The embedded repository, found from another working directory (the binary's runfiles).
rm -f "$tmp/log" "$tmp/out"
(cd / && exec env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$cortadod" --http-port=0 --grpc-port=0 --metrics-port=0 --http-address=127.0.0.1 \
  --grpc-address=127.0.0.1 --metrics-address=127.0.0.1) >"$tmp/out" 2>"$tmp/log" &
pid=$!
wait_ready
curl -sf "http://127.0.0.1:$http_port/v2/models/example_mlp/ready" >/dev/null ||
  fail "example_mlp is not ready"
grep -q "curl -s localhost:$http_port/v2/models/example_mlp/infer" "$tmp/out" ||
  fail "no ready curl line printed: $(cat "$tmp/out")"
# The printed curl line works as printed.
line=$(grep "curl -s localhost:$http_port/v2/models/example_mlp/infer" "$tmp/out")
eval "$line" >"$tmp/resp" || fail "the printed curl line failed"
grep -q '"probabilities"' "$tmp/resp" || fail "unexpected answer: $(cat "$tmp/resp")"
# The daemon re-executed itself (same process) with OpenMP's spinning bounded.
tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "GOMP_SPINCOUNT=10000" ||
  fail "GOMP_SPINCOUNT is not set in cortadod's environment"
grep -q "OpenMP: GOMP_SPINCOUNT=10000" "$tmp/log" || fail "the OpenMP setting is not logged"
# By default one inference may use every CPU the process may use.
grep -qE " ([0-9]+) intra-op threads \(\1 CPUs available\)" "$tmp/log" ||
  fail "the intra-op threads are not the available CPUs: $(grep intra-op "$tmp/log")"
stop INT
echo "ok: embedded repository, printed curl line, GOMP_SPINCOUNT=10000 set, SIGINT exits 0"

# Explicit mode: only --load-model models load.
repo="$tmp/repo"
mkdir -p "$repo"
cp -rL "$(dirname "$(dirname "$2")")/example_mlp" "$repo/a"
cp -rL "$(dirname "$(dirname "$2")")/example_mlp" "$repo/b"
chmod -R u+w "$repo"
sed -i 's/"example_mlp"/"a"/' "$repo/a/config.pbtxt"
sed -i 's/"example_mlp"/"b"/' "$repo/b/config.pbtxt"
rm -f "$tmp/log" "$tmp/out"  # not to find the previous run's "ready"
OMP_WAIT_POLICY=PASSIVE "$cortadod" --model-repository="$repo" --model-control-mode=explicit \
  --load-model=a --intra-op-thread-count=3 \
  --http-port=0 --grpc-port=0 --metrics-port=0 --http-address=127.0.0.1 \
  --grpc-address=127.0.0.1 --metrics-address=127.0.0.1 >"$tmp/out" 2>"$tmp/log" &
pid=$!
wait_ready
curl -sf "http://127.0.0.1:$http_port/v2/models/a/ready" >/dev/null || fail "a is not ready"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/v2/models/b/ready")
[ "$code" != 200 ] || fail "b is ready without --load-model"
# A wait policy from the environment is kept as it is.
tr '\0' '\n' <"/proc/$pid/environ" | grep -q "^GOMP_SPINCOUNT=" &&
  fail "GOMP_SPINCOUNT set although OMP_WAIT_POLICY was given"
grep -q "OpenMP: OMP_WAIT_POLICY=PASSIVE" "$tmp/log" || fail "OMP_WAIT_POLICY=PASSIVE is not logged"
grep -q " 3 intra-op threads" "$tmp/log" || fail "--intra-op-thread-count=3 is not in force"
stop TERM
echo "ok: explicit mode loads only --load-model, OMP_WAIT_POLICY kept, --intra-op-thread-count, SIGTERM exits 0"

# SIGTERM while still starting up (signals are taken from the first moment): exits 0 at once,
# without waiting to finish loading.
rm -f "$tmp/log" "$tmp/out"
"$cortadod" --model-repository="$repo" --http-port=0 --grpc-port=0 --metrics-port=0 \
  --http-address=127.0.0.1 --grpc-address=127.0.0.1 --metrics-address=127.0.0.1 \
  >"$tmp/out" 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 100); do grep -qs "loading model" "$tmp/log" && break; sleep 0.01; done
stop TERM
grep -qE "while starting up|shutting down" "$tmp/log" || fail "no shutdown logged"
echo "ok: SIGTERM during startup exits 0 ($(grep -oE "while starting up|shutting down" "$tmp/log" | head -1))"
echo PASS

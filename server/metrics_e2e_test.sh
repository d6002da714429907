#!/usr/bin/env bash
# End to end: starts cortadod (poll mode, free ports) on a copy of the embedded repository,
# sends good and bad inference requests over HTTP, publishes a corrupt version, checks the
# exposition with `promtool check metrics`, then scrapes :metrics with a real Prometheus
# (Debian's `prometheus`, scrape_interval 1s, a temporary data folder) and checks the scraped
# series through Prometheus' HTTP API. Ends by sending SIGTERM and expecting exit status 0.
#
# Usage (from Bazel): metrics_e2e_test.sh <cortadod> <a model's config.pbtxt in the embedded
# repository>
set -euo pipefail

cortadod="$(realpath "$1")"
embedded="$(dirname "$(dirname "$2")")"
tmp="${TEST_TMPDIR:-$(mktemp -d)}/metrics_e2e"
rm -rf "$tmp"
mkdir -p "$tmp"
py=/usr/bin/python3

for tool in prometheus promtool curl; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (tools/setup.sh installs it)"; exit 1; }
done

daemon_pid=""
prom_pid=""
cleanup() {
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null || true
  [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null || true
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  echo "--- cortadod log (last 60 lines)"; tail -n 60 "$tmp/cortadod.log" || true
  [ -f "$tmp/prometheus.log" ] && { echo "--- prometheus log (last 30 lines)"; tail -n 30 "$tmp/prometheus.log"; }
  exit 1
}

free_port() {
  "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $1 seconds for the command in "$2..." to succeed.
wait_for() {
  local secs="$1"; shift
  for _ in $(seq 1 $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

# 1. cortadod on a writable copy of the embedded repository, every port picked by the kernel.
cp -rL "$embedded" "$tmp/repo"
chmod -R u+w "$tmp/repo"
"$cortadod" --model-repository "$tmp/repo" --model-control-mode=poll --repository-poll-secs=1 \
  --http-port=0 --grpc-port=0 --metrics-port=0 --metrics-address=127.0.0.1 \
  --http-address=127.0.0.1 --grpc-address=127.0.0.1 --log-access --exit-timeout-secs=20 \
  >"$tmp/cortadod.out" 2>"$tmp/cortadod.log" &
daemon_pid=$!
wait_for 120 grep -q "cortadod ready" "$tmp/cortadod.log" || fail "cortadod did not become ready"
metrics_port=$(sed -n 's|.*metrics endpoint: http://[^:]*:\([0-9]*\)/metrics.*|\1|p' "$tmp/cortadod.log" | head -1)
http_port=$(sed -n 's|.*HTTP endpoint: http://[^:]*:\([0-9]*\).*|\1|p' "$tmp/cortadod.log" | head -1)
[ -n "$metrics_port" ] && [ -n "$http_port" ] || fail "no ports in the log"
echo "cortadod: http $http_port, metrics $metrics_port"

# 2. Traffic: 5 good requests (one with a batch of 3), 2 with a wrong input name, 1 wrong shape.
infer() {
  curl -s -o "$tmp/resp.json" -w '%{http_code}' \
    "http://127.0.0.1:$http_port/v2/models/example_mlp/infer" -d "$1"
}
good='{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}'
batch3='{"inputs":[{"name":"features","shape":[3,4],"datatype":"FP32","data":[1,2,3,4,0,0,0,0,1,1,1,1]}]}'
for _ in 1 2 3 4; do
  code=$(infer "$good"); [ "$code" = 200 ] || fail "good request answered $code: $(cat "$tmp/resp.json")"
done
code=$(infer "$batch3"); [ "$code" = 200 ] || fail "batch request answered $code: $(cat "$tmp/resp.json")"
grep -q probabilities "$tmp/resp.json" || fail "no probabilities in $(cat "$tmp/resp.json")"
for _ in 1 2; do
  code=$(infer '{"inputs":[{"name":"featurez","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}')
  [ "$code" = 400 ] || fail "wrong input name answered $code"
done
code=$(infer '{"inputs":[{"name":"features","shape":[1,5],"datatype":"FP32","data":[1,2,3,4,5]}]}')
[ "$code" = 400 ] || fail "wrong shape answered $code"
grep -q "access protocol=http method=infer model=example_mlp version=1" "$tmp/cortadod.log" ||
  fail "no access-log line"

# 3. A corrupt version 2, published the documented way: v1 keeps serving, the failure is counted.
mkdir "$tmp/repo/example_mlp/.tmp-2"
echo "not an onnx model" >"$tmp/repo/example_mlp/.tmp-2/model.onnx"
mv "$tmp/repo/example_mlp/.tmp-2" "$tmp/repo/example_mlp/2"
scrape() { curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$tmp/exposition.txt"; }
load_failure_seen() {
  scrape && grep -q 'cortado_model_load_failures_total{.*model="example_mlp".*version="2"' "$tmp/exposition.txt"
}
wait_for 60 load_failure_seen || fail "the failed load of version 2 never showed in /metrics"
code=$(infer "$good"); [ "$code" = 200 ] || fail "version 1 stopped serving after the bad publish ($code)"
grep -q '"model_version":"1"' "$tmp/resp.json" || fail "not served by version 1: $(cat "$tmp/resp.json")"

# 4. promtool lints the exposition.
scrape || fail "cannot scrape /metrics"
if ! promtool check metrics <"$tmp/exposition.txt" >"$tmp/promtool.txt" 2>&1; then
  cat "$tmp/promtool.txt"
  fail "promtool check metrics found problems"
fi
echo "promtool check metrics: ok ($(grep -c '^cortado_' "$tmp/exposition.txt") cortado_ samples)"

# 5. A real Prometheus scrapes it every second.
prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: cortado
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
EOF
promtool check config "$tmp/prometheus.yml" >/dev/null || fail "bad prometheus.yml"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus-data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
wait_for 60 curl -sf "http://127.0.0.1:$prom_port/-/ready" || fail "prometheus did not become ready"

# Value of an instant query (the first series), or "none".
query() {
  curl -s --get "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
    "$py" -c 'import json,sys
d=json.load(sys.stdin)
r=d.get("data",{}).get("result",[])
print(r[0]["value"][1] if d.get("status")=="success" and r else "none")'
}
scraped() { [ "$(query 'up{job="cortado"}')" = 1 ] && [ "$(query 'cortado_models_loaded')" != none ]; }
wait_for 60 scraped || fail "prometheus never scraped cortadod"

# Each check: a PromQL expression that must return a value; "cmp" compares it.
check() {  # check NAME QUERY OP EXPECTED
  local v
  v=$(query "$2")
  if [ "$v" = none ] || ! "$py" -c "import sys; sys.exit(0 if float('$v') $3 float('$4') else 1)"; then
    fail "$1: '$2' = $v, expected $3 $4"
  fi
  echo "ok: $1 ($2 = $v)"
}
check "successes" 'cortado_inference_requests_total{model="example_mlp",version="1",outcome="success"}' '>=' 6
check "failures by reason" 'cortado_inference_requests_total{model="example_mlp",version="1",outcome="failure",reason="invalid_argument"}' '==' 3
check "inferences count the batch" 'cortado_inferences_total{model="example_mlp",version="1"}' '>=' 8
check "executions" 'cortado_executions_total{model="example_mlp",version="1"}' '>=' 6
check "request duration histogram" 'cortado_request_duration_seconds_bucket{model="example_mlp",version="1",le="+Inf"}' '>=' 6
check "queue duration histogram" 'cortado_queue_duration_seconds_count{model="example_mlp",version="1"}' '>=' 6
check "compute duration histogram" 'cortado_compute_duration_seconds_count{model="example_mlp",version="1"}' '>=' 6
check "batch size histogram" 'cortado_batch_size_bucket{model="example_mlp",version="1",le="4"}' '>=' 6
check "batch size 3 seen" 'cortado_batch_size_bucket{model="example_mlp",version="1",le="4"} - ignoring(le) cortado_batch_size_bucket{model="example_mlp",version="1",le="2"}' '>=' 1
check "p99 from the histogram" 'histogram_quantile(0.99, sum by (le) (cortado_request_duration_seconds_bucket{model="example_mlp"}))' '>' 0
check "loads" 'cortado_model_loads_total{model="example_mlp",version="1"}' '==' 1
check "load failures" 'cortado_model_load_failures_total{model="example_mlp",version="2"}' '==' 1
check "loaded models" 'cortado_models_loaded' '==' 1
check "loaded versions" 'cortado_model_versions_loaded' '==' 1
check "process CPU" 'process_cpu_seconds_total{job="cortado"}' '>' 0
check "process memory" 'process_resident_memory_bytes{job="cortado"}' '>' 1000000
check "in flight" 'cortado_inference_requests_in_flight' '==' 0

# 6. SIGTERM: exits 0.
kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=""
[ "$status" = 0 ] || fail "cortadod exited $status after SIGTERM"
grep -q "received SIGTERM" "$tmp/cortadod.log" || fail "no shutdown line in the log"
echo "PASS: metrics end to end"

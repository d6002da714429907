#!/usr/bin/env bash
# Builds the libFuzzer targets in this folder with Debian's clang (-fsanitize=fuzzer,address,
# undefined) outside Bazel, and runs each for SECONDS (default 30) from its seed corpus in
# corpus/<target>/ (new inputs go to a scratch copy; the checked-in seeds are not changed).
# Prints, per target, the inputs run and the time; exits non-zero on the first crash, leaving
# the crashing input in the work folder.
#
#   server/fuzz/run_fuzzers.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-30}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(kserve_wire_fuzzer json_infer_request_fuzzer grpc_request_fuzzer npy_fuzzer
                                     model_config_fuzzer onnx_importer_fuzzer netdef_importer_fuzzer)
work="${FUZZ_WORK:-$(mktemp -d)}"
mkdir -p "$work/gen"
cxx="${CXX_FUZZ:-clang++}"
# -fno-sanitize=builtin: RapidJSON 1.1's DiyFp::Normalize calls __builtin_clzll(0) for some
# numbers parsed at full precision (found here by kserve_wire_fuzzer; Tencent/rapidjson fixed it
# after 1.1.0); cortado itself calls no clz/ctz builtins.
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize=builtin
       -fno-sanitize-recover=undefined -fsanitize-recover=pointer-overflow,shift,signed-integer-overflow -I. -I"$work/gen"
       -DNDEBUG -DONNX_NAMESPACE=onnx -DONNX_ML=1)
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/server/fuzz/ubsan.supp"
protoc --cpp_out="$work/gen" -Iproto proto/model_config.proto proto/grpc_service.proto proto/caffe2.proto
absl=$(pkg-config --libs absl_statusor absl_status absl_strings absl_str_format absl_synchronization \
  absl_time absl_cord absl_hash absl_raw_hash_set)
core=(core/allocator.cc core/cgroup.cc core/child_process.cc core/dtype.cc core/npy.cc core/shape.cc core/tensor.cc)
graph="predictor/graph.cc ops/attributes.cc ops/kernel.cc ops/registry.cc ops/run_op.cc"
declare -A srcs=(
  [kserve_wire_fuzzer]="server/wire/kserve_wire.cc"
  [npy_fuzzer]=""
  [json_infer_request_fuzzer]="server/wire/kserve_wire.cc server/http/json_codec.cc $work/gen/grpc_service.pb.cc $work/gen/model_config.pb.cc"
  [grpc_request_fuzzer]="server/wire/kserve_wire.cc server/grpc/grpc_codec.cc $work/gen/grpc_service.pb.cc $work/gen/model_config.pb.cc"
  [model_config_fuzzer]="server/repository/model_config.cc $graph $work/gen/model_config.pb.cc"
  [onnx_importer_fuzzer]="predictor/onnx/onnx_importer.cc $graph"
  [netdef_importer_fuzzer]="predictor/netdef/netdef_importer.cc predictor/netdef/op_mapping.cc $graph $work/gen/caffe2.pb.cc"
)
declare -A libs=([onnx_importer_fuzzer]="-lonnx -lonnx_proto")
for t in "${targets[@]}"; do
  # shellcheck disable=SC2086
  "$cxx" "${flags[@]}" "server/fuzz/$t.cc" ${srcs[$t]} "${core[@]}" -o "$work/$t" \
    ${libs[$t]:-} -lprotobuf -lgrpc++ -lgpr $absl -lpthread
  mkdir -p "$work/corpus-$t"
  cp -r "server/fuzz/corpus/$t/." "$work/corpus-$t/" 2>/dev/null || true
  log="$work/$t.log"
  if ! (cd "$work" && "./$t" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=256 \
      -print_final_stats=1 "corpus-$t" >"$log" 2>&1); then
    tail -n 40 "$log"
    echo "$t: CRASH (input and log in $work)"
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "$t: $runs inputs in ${seconds} s, no crash"
done

// Inference speed and memory of cortado's Predictor against ONNX Runtime (issue 9), in the same
// run, on PyTorch exports of 14 models with random weights (bench/export_models.py; exported on
// first use into --model_dir). For each model and configuration (batch 1 at each of --threads,
// and batch --batch at the largest of --threads), cortado runs in-process in a forked child per
// model (one Predictor, SetIntraOpThreads per configuration; the child's ru_maxrss is the model's
// peak RSS), and ONNX Runtime runs bench/model_bench_ort.py in the bench venv
// (bench/setup_bench.sh: the current onnxruntime from PyPI, CPU execution provider, the same
// intra-op threads, inter-op 1, ORT_ENABLE_ALL), one process per configuration, its peak RSS
// being the largest of them. Both get the same input (the first B rows of the model's input.npy).
// The two take turns --rounds times per model (a cortado child, then the ORT processes, again),
// so that both see the same spells of a noisy host: on shared cloud cores a vCPU's arithmetic
// throughput can halve for seconds at a time. A time is the median of the rounds' medians. Every ratio is cortado / ONNX Runtime (time or RSS), so < 1 means cortado
// is faster or smaller. max rel err is max|cortado - ORT| / max|ORT| over every configuration's
// output; above 1e-4 it is flagged with '!'. A model cortado cannot load or run shows its error
// and is left out of the geometric means.
//
//   bazel run //bench:model_bench -- [--models resnet18,mlp] [--runs 10] [--warmup 3]
//       [--rounds 3] [--threads 1,2] [--batch 8] [--backends cpu] [--model_dir DIR] [--max_seconds 20]
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "backends/backend.h"
#include "core/npy.h"
#include "core/thread_pool.h"
#include "predictor/executor.h"
#include "predictor/predictor.h"
#include "predictor/workspace.h"

ABSL_FLAG(std::string, models, "", "comma-separated models (default: all, in the table's order)");
ABSL_FLAG(int, runs, 10, "timed runs per configuration (median reported)");
ABSL_FLAG(int, warmup, 3, "untimed runs first");
ABSL_FLAG(int, rounds, 3,
          "turns per model: cortado's child, then ORT's processes, this many times; a time is the "
          "median of the rounds' medians");
ABSL_FLAG(std::string, threads, "1,2",
          "intra-op thread counts for batch-1 latency; the largest is also used for throughput");
ABSL_FLAG(int, batch, 8, "batch size of the throughput configuration");
ABSL_FLAG(std::string, backends, "",
          "comma-separated backends for PredictorOptions.plan.backends (empty: every registered)");
ABSL_FLAG(int, graph_level, 1, "cortado's graph optimization level (-1 none, 0 folding, 1 all)");
ABSL_FLAG(std::string, executor, "simple", "cortado's executor: simple or dag");
ABSL_FLAG(bool, memory_plan, true, "cortado runs in one arena per run (predictor/memory_plan.h)");
ABSL_FLAG(bool, passes, false, "print what each optimizer pass did, per model, on stderr");
ABSL_FLAG(bool, profile, false,
          "print on stderr, per model and configuration, the milliseconds per run that each "
          "backend and op type took (steps timed one by one, outside the memory plan's arena)");
ABSL_FLAG(std::string, model_dir, "",
          "exported models, <dir>/<model>/{model.onnx,input.npy} (default "
          "~/.cache/cortado/bench-models; missing ones are exported with bench/export_models.py)");
ABSL_FLAG(double, max_seconds, 20,
          "cortado's warmup + timed runs of one configuration stop early (after at least 3 timed "
          "runs) once they would exceed this; ONNX Runtime always does --runs");
ABSL_FLAG(int, child_timeout_s, 900, "a model's cortado child is killed after this long");
ABSL_FLAG(std::string, python, "",
          "Python with the current onnxruntime (default: $CORTADO_BENCH_VENV/bin/python, else "
          "~/.cache/cortado/bench-venv/bin/python, made by bench/setup_bench.sh if missing)");
ABSL_FLAG(std::string, export_python, "/usr/bin/python3",
          "Python with torch and torchvision, for bench/export_models.py");

namespace cortado {
namespace {

// The models of issue 9, in the table's order (bench/export_models.py's names).
const char* const kModels[] = {"resnet18",      "resnet50",
                               "mobilenet_v2",  "squeezenet1_1",
                               "shufflenet_v2", "googlenet",
                               "densenet121",   "efficientnet_b0",
                               "mnasnet1_0",    "regnet_y_400mf",
                               "alexnet",       "transformer",
                               "lstm",          "mlp"};

struct Config {
  int batch;
  int threads;
  std::string Name() const { return absl::StrCat("b", batch, "_t", threads); }
};

struct Measurement {
  bool ok = false;
  double median_ms = 0;
  int runs = 0;
};

struct ModelResult {
  std::string error;  // cortado's load or run failure (or the child's death); empty if none
  std::string ort_error;
  std::vector<Measurement> cortado, ort;  // one per config
  double cortado_rss_mb = 0, ort_rss_mb = 0, cortado_baseline_mb = 0, ort_baseline_mb = 0;
  double max_rel_err = -1;  // -1: not compared
  std::vector<std::string> notes;
};

std::string Home() {
  const char* home = std::getenv("HOME");
  return home ? home : "";
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string OneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double PeakRssMb() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// ---- setup: the ORT venv and the exported models -------------------------------------------

std::string OrtPython() {
  std::string python = absl::GetFlag(FLAGS_python);
  if (!python.empty()) return python;
  const char* venv = std::getenv("CORTADO_BENCH_VENV");
  python = (venv ? std::string(venv) : Home() + "/.cache/cortado/bench-venv") + "/bin/python";
  if (access(python.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "model_bench: making the ONNX Runtime venv (bench/setup_bench.sh)\n");
    if (std::system("bench/setup_bench.sh") != 0) {
      std::fprintf(stderr, "model_bench: bench/setup_bench.sh failed\n");
    }
  }
  return python;
}

std::string ModelDir() {
  const std::string dir = absl::GetFlag(FLAGS_model_dir);
  return dir.empty() ? Home() + "/.cache/cortado/bench-models" : dir;
}

bool Exported(const std::string& model) {
  const std::string dir = ModelDir() + "/" + model;
  return access((dir + "/model.onnx").c_str(), R_OK) == 0 &&
         access((dir + "/input.npy").c_str(), R_OK) == 0;
}

void ExportMissing(const std::vector<std::string>& models) {
  std::vector<std::string> missing;
  for (const std::string& m : models) {
    if (!Exported(m)) missing.push_back(m);
  }
  if (missing.empty()) return;
  std::fprintf(stderr, "model_bench: exporting %s into %s\n", absl::StrJoin(missing, ",").c_str(),
               ModelDir().c_str());
  const std::string command =
      absl::StrCat(absl::GetFlag(FLAGS_export_python), " bench/export_models.py --model_dir ",
                   Quote(ModelDir()), " --models ", absl::StrJoin(missing, ","));
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "model_bench: bench/export_models.py failed for some models\n");
  }
}

// ---- cortado, in a forked child per model ----------------------------------------------------

// Times `predictor` on `inputs` (warmup, then timed runs, both capped by --max_seconds) and
// returns the median; writes the first output to `output_path`.
absl::StatusOr<Measurement> TimeCortado(const Predictor& predictor, const TensorMap& inputs,
                                        const std::string& output_path) {
  using Clock = std::chrono::steady_clock;
  const double budget = absl::GetFlag(FLAGS_max_seconds);
  int warmup = std::max(1, absl::GetFlag(FLAGS_warmup)), runs = absl::GetFlag(FLAGS_runs);
  absl::StatusOr<TensorMap> outputs;
  std::vector<double> times;
  for (int i = 0; i < warmup + runs; ++i) {
    const Clock::time_point start = Clock::now();
    outputs = predictor.Run(inputs);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!outputs.ok()) return outputs.status();
    if (i == 0 && seconds * (warmup + runs) > budget) {  // slow: fewer runs, at least 3 timed
      warmup = 1;
      runs = std::max(3, std::min(runs, static_cast<int>(budget / seconds) - 1));
    }
    if (i >= warmup) times.push_back(seconds * 1e3);
  }
  const auto it = outputs->find(predictor.outputs().front().name);
  if (it == outputs->end()) return absl::InternalError("the first output is missing");
  RETURN_IF_ERROR(WriteNpyFile(output_path, it->second));
  Measurement m;
  m.ok = true;
  m.median_ms = Median(times);
  m.runs = static_cast<int>(times.size());
  return m;
}

// --profile: runs the plan's steps one by one (as SimpleExecutor does, without the arena) --runs
// times and prints the median milliseconds per run that each "backend op_type" took, largest
// first, with its share of the sum.
void ProfileSteps(const Predictor& predictor, const TensorMap& inputs, const std::string& config) {
  using Clock = std::chrono::steady_clock;
  const Plan& plan = predictor.plan();
  std::map<std::string, std::vector<double>> ms;  // "backend op" -> per run
  const int runs = std::max(1, absl::GetFlag(FLAGS_runs));
  for (int run = 0; run < runs; ++run) {
    Workspace ws(plan);
    for (size_t i = 0; i < plan.inputs().size(); ++i) {
      ws.blob(plan.input_slots()[i]) = inputs.at(plan.inputs()[i].name);
    }
    if (!ws.OpenStreams().ok()) return;
    std::map<std::string, double> this_run;
    for (const PlanStep& step : plan.steps()) {
      const Clock::time_point start = Clock::now();
      if (!RunStep(step, ws).ok()) return;
      this_run[step.backend->name() + " " + step.op_type] +=
          std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      for (int slot : step.release_after) ws.blob(slot) = Tensor();
    }
    (void)ws.WaitStreams();
    for (const auto& [what, t] : this_run) ms[what].push_back(t);
  }
  std::vector<std::pair<double, std::string>> rows;
  double total = 0;
  for (const auto& [what, t] : ms) {
    rows.push_back({Median(t), what});
    total += rows.back().first;
  }
  std::sort(rows.rbegin(), rows.rend());
  std::fprintf(stderr, "  profile %s: %.2f ms over the steps\n", config.c_str(), total);
  for (const auto& [t, what] : rows) {
    std::fprintf(stderr, "    %8.3f ms %5.1f%%  %s\n", t, 100 * t / total, what.c_str());
  }
}

// The child's work: loads the model once, runs every config and reports on `out`, one line each:
// `baseline MB`, `result CONFIG MEDIAN_MS RUNS`, `error MESSAGE`, `rss MB`.
// --passes and --profile report in the first round only.
void CortadoChild(const std::string& model_path, const std::vector<Config>& configs,
                  const std::string& work, bool first_round, FILE* out) {
  std::fprintf(out, "baseline %f\n", PeakRssMb());
  PredictorOptions options;
  for (absl::string_view b :
       absl::StrSplit(absl::GetFlag(FLAGS_backends), ',', absl::SkipEmpty())) {
    options.plan.backends.emplace_back(b);
  }
  options.plan.graph_level = absl::GetFlag(FLAGS_graph_level);
  options.executor = absl::GetFlag(FLAGS_executor);
  options.memory_plan = absl::GetFlag(FLAGS_memory_plan);
  absl::StatusOr<std::unique_ptr<Predictor>> predictor = Predictor::FromFile(model_path, options);
  if (!predictor.ok()) {
    std::fprintf(out, "error load: %s\n", OneLine(predictor.status().ToString()).c_str());
    return;
  }
  if (first_round && absl::GetFlag(FLAGS_passes)) {
    for (const PassReport& r : (*predictor)->plan().pass_reports()) {
      std::fprintf(stderr, "  pass %-20s %5d nodes %8.2f ms\n", r.name.c_str(), r.nodes, r.ms);
    }
    std::map<std::string, int> placed;  // "backend op" -> steps
    for (const PlanStep& step : (*predictor)->plan().steps()) {
      ++placed[step.backend->name() + " " + step.op_type];
    }
    for (const auto& [what, count] : placed)
      std::fprintf(stderr, "  %4d %s\n", count, what.c_str());
  }
  for (const Config& config : configs) {
    SetIntraOpThreads(config.threads);
    absl::StatusOr<Tensor> input =
        ReadNpyFile(absl::StrCat(work, "/input_b", config.batch, ".npy"));
    if (!input.ok()) {
      std::fprintf(out, "error input: %s\n", OneLine(input.status().ToString()).c_str());
      return;
    }
    const TensorMap inputs = {{(*predictor)->inputs().front().name, *std::move(input)}};
    absl::StatusOr<Measurement> m =
        TimeCortado(**predictor, inputs, absl::StrCat(work, "/cortado_", config.Name(), ".npy"));
    if (!m.ok()) {
      std::fprintf(out, "error run %s: %s\n", config.Name().c_str(),
                   OneLine(m.status().ToString()).c_str());
      return;
    }
    if (first_round && absl::GetFlag(FLAGS_profile)) ProfileSteps(**predictor, inputs, config.Name());
    std::fprintf(out, "result %s %f %d\n", config.Name().c_str(), m->median_ms, m->runs);
    std::fflush(out);
  }
  std::fprintf(out, "rss %f\n", PeakRssMb());
}

void RunCortado(const std::string& model_path, const std::vector<Config>& configs,
                const std::string& work, bool first_round, ModelResult& result) {
  result.cortado.assign(configs.size(), {});
  int fds[2];
  if (pipe(fds) != 0) {
    result.error = "pipe failed";
    return;
  }
  std::fflush(nullptr);
  malloc_trim(0);  // the child starts with the parent's RSS: keep it at the parent's baseline
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    alarm(absl::GetFlag(FLAGS_child_timeout_s));
    FILE* out = fdopen(fds[1], "w");
    CortadoChild(model_path, configs, work, first_round, out);
    std::fclose(out);
    _exit(0);
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  char line[8192];
  while (std::fgets(line, sizeof line, in) != nullptr) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    std::vector<std::string> f = absl::StrSplit(s, absl::MaxSplits(' ', 3));
    if (f[0] == "baseline" && f.size() == 2) {
      (void)absl::SimpleAtod(f[1], &result.cortado_baseline_mb);
    } else if (f[0] == "rss" && f.size() == 2) {
      (void)absl::SimpleAtod(f[1], &result.cortado_rss_mb);
    } else if (f[0] == "error") {
      result.error = s.substr(6);
    } else if (f[0] == "result" && f.size() == 4) {
      for (size_t i = 0; i < configs.size(); ++i) {
        if (configs[i].Name() != f[1]) continue;
        result.cortado[i].ok = absl::SimpleAtod(f[2], &result.cortado[i].median_ms) &&
                               absl::SimpleAtoi(f[3], &result.cortado[i].runs);
      }
    }
  }
  std::fclose(in);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status) && result.error.empty()) {
    result.error =
        WTERMSIG(status) == SIGALRM
            ? absl::StrCat("timed out after ", absl::GetFlag(FLAGS_child_timeout_s), " s")
            : absl::StrCat("crashed (signal ", WTERMSIG(status), ": ", strsignal(WTERMSIG(status)),
                           ")");
  }
}

// ---- ONNX Runtime, one process per configuration ---------------------------------------------

// The number after "key": in a flat JSON object line; false if absent.
bool JsonNumber(const std::string& json, const std::string& key, double* value) {
  const size_t at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return false;
  char* end = nullptr;
  const char* begin = json.c_str() + at + key.size() + 3;
  *value = std::strtod(begin, &end);
  return end != begin;
}

std::string JsonString(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\": \"");
  if (at == std::string::npos) return "";
  const size_t begin = at + key.size() + 5;
  return json.substr(begin, json.find('"', begin) - begin);
}

void RunOrt(const std::string& python, const std::string& model_path,
            const std::vector<Config>& configs, const std::string& work, ModelResult& result,
            std::string& ort_version) {
  result.ort.assign(configs.size(), {});
  for (size_t i = 0; i < configs.size(); ++i) {
    const Config& c = configs[i];
    const std::string errors = absl::StrCat(work, "/ort_", c.Name(), ".err");
    const std::string command = absl::StrCat(
        python, " bench/model_bench_ort.py --model ", Quote(model_path), " --input ",
        Quote(absl::StrCat(work, "/input_b", c.batch, ".npy")), " --output ",
        Quote(absl::StrCat(work, "/ort_", c.Name(), ".npy")), " --threads ", c.threads, " --runs ",
        absl::GetFlag(FLAGS_runs), " --warmup ", absl::GetFlag(FLAGS_warmup), " 2>", Quote(errors));
    FILE* pipe = popen(command.c_str(), "r");
    std::string json;
    char buffer[4096];
    while (pipe != nullptr && std::fgets(buffer, sizeof buffer, pipe) != nullptr) json += buffer;
    const int status = pipe ? pclose(pipe) : -1;
    double rss = 0, baseline = 0;
    Measurement& m = result.ort[i];
    m.ok = status == 0 && JsonNumber(json, "median_ms", &m.median_ms) &&
           JsonNumber(json, "ru_maxrss_kb", &rss);
    if (!m.ok) {
      absl::StatusOr<std::string> err = ReadFileToString(errors);
      std::string tail = err.ok() ? *err : "";
      if (tail.size() > 300) tail = "..." + tail.substr(tail.size() - 300);
      result.ort_error = absl::StrCat("ORT ", c.Name(), " failed: ", OneLine(tail));
      continue;
    }
    double runs = 0;
    JsonNumber(json, "runs", &runs);
    m.runs = static_cast<int>(runs);
    JsonNumber(json, "baseline_rss_kb", &baseline);
    result.ort_rss_mb = std::max(result.ort_rss_mb, rss / 1024);
    result.ort_baseline_mb = std::max(result.ort_baseline_mb, baseline / 1024);
    ort_version = JsonString(json, "ort_version");
  }
}

// ---- rounds ------------------------------------------------------------------------------------

// --rounds turns of RunCortado and RunOrt into `result`: each configuration's median of the
// rounds' medians and its runs in all, the largest peak RSS, and the first error, which ends them.
void RunRounds(const std::string& python, const std::string& model_path,
               const std::vector<Config>& configs, const std::string& work, ModelResult& result,
               std::string& ort_version) {
  std::vector<std::vector<double>> ours(configs.size()), theirs(configs.size());
  for (int round = 0; round < std::max(1, absl::GetFlag(FLAGS_rounds)); ++round) {
    ModelResult one;
    RunCortado(model_path, configs, work, round == 0, one);
    RunOrt(python, model_path, configs, work, one, ort_version);
    if (round == 0) result = one;
    if (!one.error.empty() || !one.ort_error.empty()) {
      if (result.error.empty()) result.error = one.error;
      if (result.ort_error.empty()) result.ort_error = one.ort_error;
      break;
    }
    for (size_t i = 0; i < configs.size(); ++i) {
      ours[i].push_back(one.cortado[i].median_ms);
      theirs[i].push_back(one.ort[i].median_ms);
      if (round > 0) {
        result.cortado[i].runs += one.cortado[i].runs;
        result.ort[i].runs += one.ort[i].runs;
      }
    }
    result.cortado_rss_mb = std::max(result.cortado_rss_mb, one.cortado_rss_mb);
    result.ort_rss_mb = std::max(result.ort_rss_mb, one.ort_rss_mb);
    result.cortado_baseline_mb = std::max(result.cortado_baseline_mb, one.cortado_baseline_mb);
    result.ort_baseline_mb = std::max(result.ort_baseline_mb, one.ort_baseline_mb);
  }
  for (size_t i = 0; i < configs.size(); ++i) {
    if (!ours[i].empty()) result.cortado[i].median_ms = Median(ours[i]);
    if (!theirs[i].empty()) result.ort[i].median_ms = Median(theirs[i]);
  }
}

// ---- comparison and the table -----------------------------------------------------------------

// max|a - b| / max|b| (b is ONNX Runtime's output), or an error if they are not comparable.
absl::StatusOr<double> RelativeError(const std::string& ours, const std::string& theirs) {
  ASSIGN_OR_RETURN(Tensor a, ReadNpyFile(ours));
  ASSIGN_OR_RETURN(Tensor b, ReadNpyFile(theirs));
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output differs in shape or dtype: ", a.DebugString(0), " vs ", b.DebugString(0)));
  }
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const double x = a.ElementAsDouble(i), y = b.ElementAsDouble(i);
    diff = std::max(diff, std::isnan(x) != std::isnan(y) ? INFINITY : std::abs(x - y));
    scale = std::max(scale, std::abs(y));
  }
  return scale > 0 ? diff / scale : diff;
}

void Compare(const std::vector<Config>& configs, const std::string& work, ModelResult& result) {
  for (size_t i = 0; i < configs.size(); ++i) {
    if (!result.cortado[i].ok || !result.ort[i].ok) continue;
    const std::string name = configs[i].Name();
    absl::StatusOr<double> err = RelativeError(absl::StrCat(work, "/cortado_", name, ".npy"),
                                               absl::StrCat(work, "/ort_", name, ".npy"));
    if (!err.ok()) {
      result.notes.push_back(absl::StrCat(name, ": ", err.status().message()));
      result.max_rel_err = INFINITY;
    } else {
      result.max_rel_err = std::max(result.max_rel_err, *err);
    }
  }
}

// Writes the first `batch` rows of `full` to `path`.
absl::Status WriteBatch(const Tensor& full, int batch, const std::string& path) {
  Shape shape = full.shape();
  if (shape.empty() || shape[0] < batch) {
    return absl::InvalidArgumentError(absl::StrCat("input.npy has fewer than ", batch, " rows"));
  }
  shape[0] = batch;
  ASSIGN_OR_RETURN(Tensor part, Tensor::Create(full.dtype(), shape));
  std::memcpy(part.raw_data(), full.raw_data(), part.nbytes());
  return WriteNpyFile(path, part);
}

double Ratio(const Measurement& ours, const Measurement& theirs) {
  return ours.ok && theirs.ok && theirs.median_ms > 0 ? ours.median_ms / theirs.median_ms : NAN;
}

std::string Cell(double v, const char* format) {
  return std::isnan(v) ? "-" : absl::StrFormat(format, v);
}

// Milliseconds with three significant digits below 1 ms (the MLP takes 0.06 ms).
std::string Millis(double v) { return Cell(v, v < 1 ? "%.3f" : "%.2f"); }

void PrintHeader(const std::vector<Config>& configs) {
  std::printf("%-16s", "model");
  for (const Config& c : configs) {
    const std::string what = c.batch == 1 ? absl::StrCat("lat ", c.threads, "T ms")
                                          : absl::StrCat("b", c.batch, " ", c.threads, "T ms");
    std::printf(" | %9s %8s %6s", what.c_str(), "ORT", "ratio");
  }
  std::printf(" | %8s %7s %6s | %s\n", "RSS MB", "ORT", "ratio", "max rel err");
}

void PrintRow(const std::string& model, const std::vector<Config>& configs, const ModelResult& r) {
  std::printf("%-16s", model.c_str());
  for (size_t i = 0; i < configs.size(); ++i) {
    const Measurement& ours = r.cortado[i];
    const Measurement& theirs = r.ort[i];
    std::printf(" | %9s %8s %6s", Millis(ours.ok ? ours.median_ms : NAN).c_str(),
                Millis(theirs.ok ? theirs.median_ms : NAN).c_str(),
                Cell(Ratio(ours, theirs), "%.2fx").c_str());
  }
  const bool rss = r.error.empty() && r.cortado_rss_mb > 0 && r.ort_rss_mb > 0;
  std::printf(
      " | %8s %7s %6s | %s%s\n",
      Cell(r.cortado_rss_mb > 0 ? r.cortado_rss_mb : NAN, "%.0f").c_str(),
      Cell(r.ort_rss_mb > 0 ? r.ort_rss_mb : NAN, "%.0f").c_str(),
      Cell(rss ? r.cortado_rss_mb / r.ort_rss_mb : NAN, "%.2fx").c_str(),
      (r.max_rel_err < 0 ? std::string("-") : absl::StrFormat("%.1e", r.max_rel_err)).c_str(),
      r.max_rel_err > 1e-4 ? " !" : "");
  if (!r.error.empty()) std::printf("  %s: cortado error: %s\n", model.c_str(), r.error.c_str());
  if (!r.ort_error.empty()) std::printf("  %s: %s\n", model.c_str(), r.ort_error.c_str());
  for (const std::string& note : r.notes) std::printf("  %s: %s\n", model.c_str(), note.c_str());
  std::fflush(stdout);
}

struct Geomean {
  double log_sum = 0, worst = 0;
  std::string worst_model;
  int n = 0;
  void Add(double ratio, const std::string& model) {
    if (std::isnan(ratio) || ratio <= 0) return;
    log_sum += std::log(ratio);
    ++n;
    if (ratio > worst) worst = ratio, worst_model = model;
  }
  std::string ToString() const {
    return n == 0 ? "-"
                  : absl::StrFormat("%.2fx (worst %.2fx %s)", std::exp(log_sum / n), worst,
                                    worst_model);
  }
};

int Main() {
  std::vector<std::string> models;
  for (absl::string_view m : absl::StrSplit(absl::GetFlag(FLAGS_models), ',', absl::SkipEmpty())) {
    models.emplace_back(m);
  }
  if (models.empty()) models.assign(std::begin(kModels), std::end(kModels));
  std::vector<Config> configs;
  int max_threads = 1;
  for (absl::string_view t : absl::StrSplit(absl::GetFlag(FLAGS_threads), ',', absl::SkipEmpty())) {
    int n = 0;
    if (!absl::SimpleAtoi(t, &n) || n < 1) {
      std::fprintf(stderr, "model_bench: bad --threads %s\n", absl::GetFlag(FLAGS_threads).c_str());
      return 2;
    }
    configs.push_back({1, n});
    max_threads = std::max(max_threads, n);
  }
  if (absl::GetFlag(FLAGS_batch) > 1) configs.push_back({absl::GetFlag(FLAGS_batch), max_threads});

  std::vector<std::string> registered;
  for (const Backend* b : BackendRegistry::Global().ByPriority()) registered.push_back(b->name());
  for (absl::string_view b :
       absl::StrSplit(absl::GetFlag(FLAGS_backends), ',', absl::SkipEmpty())) {
    if (std::find(registered.begin(), registered.end(), b) == registered.end()) {
      std::fprintf(stderr, "model_bench: unknown backend %s; registered: %s\n",
                   std::string(b).c_str(), absl::StrJoin(registered, ",").c_str());
      return 2;
    }
  }

  const std::string python = OrtPython();
  ExportMissing(models);
  char work_template[] = "/tmp/model_bench.XXXXXX";
  const char* work_root = mkdtemp(work_template);
  if (work_root == nullptr) {
    std::fprintf(stderr, "model_bench: mkdtemp failed\n");
    return 1;
  }

  std::printf(
      "cortado vs ONNX Runtime, %d rounds of %d warmup + %d timed runs (median of the rounds' "
      "medians), ratio = cortado / ORT (time or peak RSS; < 1: cortado faster or smaller), "
      "backends: %s\n",
      std::max(1, absl::GetFlag(FLAGS_rounds)), absl::GetFlag(FLAGS_warmup),
      absl::GetFlag(FLAGS_runs),
      absl::GetFlag(FLAGS_backends).empty()
          ? absl::StrCat("all registered (", absl::StrJoin(registered, ","), ")").c_str()
          : absl::GetFlag(FLAGS_backends).c_str());
  PrintHeader(configs);
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  std::vector<Geomean> time_means(configs.size());
  Geomean rss_mean, rss_above_baseline_mean;
  std::vector<std::string> left_out, inaccurate;
  std::string ort_version;
  double cortado_baseline = 0, ort_baseline = 0;
  for (const std::string& model : models) {
    ModelResult r;
    const std::string dir = ModelDir() + "/" + model, work = absl::StrCat(work_root, "/", model);
    absl::StatusOr<Tensor> input = ReadNpyFile(dir + "/input.npy");
    absl::Status status = input.status();
    if (status.ok() && mkdir(work.c_str(), 0755) != 0) status = absl::InternalError("mkdir");
    for (const Config& c : configs) {
      if (status.ok())
        status = WriteBatch(*input, c.batch, absl::StrCat(work, "/input_b", c.batch, ".npy"));
    }
    if (!status.ok()) {
      r.error = absl::StrCat("no input (bench/export_models.py failed?): ", status.ToString());
      r.cortado.assign(configs.size(), {});
      r.ort.assign(configs.size(), {});
    } else {
      std::fprintf(stderr, "model_bench: %s\n", model.c_str());
      RunRounds(python, dir + "/model.onnx", configs, work, r, ort_version);
      Compare(configs, work, r);
    }
    PrintRow(model, configs, r);
    if (!r.error.empty()) {
      left_out.push_back(model);
      continue;
    }
    for (size_t i = 0; i < configs.size(); ++i)
      time_means[i].Add(Ratio(r.cortado[i], r.ort[i]), model);
    if (r.ort_rss_mb > 0) rss_mean.Add(r.cortado_rss_mb / r.ort_rss_mb, model);
    if (r.ort_rss_mb > r.ort_baseline_mb) {
      rss_above_baseline_mean.Add(
          (r.cortado_rss_mb - r.cortado_baseline_mb) / (r.ort_rss_mb - r.ort_baseline_mb), model);
    }
    if (r.max_rel_err > 1e-4) inaccurate.push_back(model);
    cortado_baseline = std::max(cortado_baseline, r.cortado_baseline_mb);
    ort_baseline = std::max(ort_baseline, r.ort_baseline_mb);
  }
  for (size_t i = 0; i < configs.size(); ++i) {
    const std::string what = configs[i].batch == 1
                                 ? absl::StrCat("latency b1 ", configs[i].threads, "T")
                                 : absl::StrCat("throughput b", configs[i].batch, " ",
                                                configs[i].threads, "T (time ratio)");
    std::printf("geomean %-32s %s over %d models\n", what.c_str(), time_means[i].ToString().c_str(),
                time_means[i].n);
  }
  std::printf("geomean %-32s %s over %d models\n", "peak RSS", rss_mean.ToString().c_str(),
              rss_mean.n);
  std::printf("geomean %-32s %s over %d models\n", "peak RSS above the baseline",
              rss_above_baseline_mean.ToString().c_str(), rss_above_baseline_mean.n);
  std::printf("left out (cortado failed): %s\n",
              left_out.empty() ? "none" : absl::StrJoin(left_out, ", ").c_str());
  std::printf("max rel err > 1e-4: %s\n",
              inaccurate.empty() ? "none" : absl::StrJoin(inaccurate, ", ").c_str());
  std::printf(
      "onnxruntime %s (CPUExecutionProvider); peak RSS before loading a model: cortado %.0f MB, "
      "ORT (Python + numpy + onnxruntime) %.0f MB; total %.0f s\n",
      ort_version.empty() ? "?" : ort_version.c_str(), cortado_baseline, ort_baseline,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  std::string rm = absl::StrCat("rm -rf ", Quote(work_root));
  (void)std::system(rm.c_str());
  return 0;
}

}  // namespace
}  // namespace cortado

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return cortado::Main();
}

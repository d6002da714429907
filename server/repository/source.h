// RepositorySource: reads a Triton-layout model repository from disk.
//
//   <root>/<model>/config.pbtxt          optional; completed from the model when absent
//   <root>/<model>/<version>/model.onnx  <version> is a plain decimal number (1, 2, 10, ...)
//   <root>/<model>/<version>/init_net.pb + predict_net.pb   or a Caffe2 NetDef
//
// Publish procedure (see README "Model repository"): a version folder is only looked at once its
// name is a plain number, so a new version is written under a dot-prefixed temporary name in the
// model folder (`.tmp-3`) and renamed into place (`mv .tmp-3 3`), which is atomic. Folders whose
// names start with '.' or are not numbers are ignored; model folders whose names start with '.'
// are ignored too. Each version also gets a fingerprint (relative path, size and modification
// time of every file in it) so that a version still changing while it loads can be detected.
//
// Stateless apart from the root path; thread-safe.
#ifndef CORTADO_SERVER_REPOSITORY_SOURCE_H_
#define CORTADO_SERVER_REPOSITORY_SOURCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/status.h"

namespace cortado {

inline constexpr char kConfigFile[] = "config.pbtxt";
inline constexpr char kDefaultModelFile[] = "model.onnx";
// A Caffe2 NetDef version holds these two (or predict_net.pbtxt) instead of model.onnx.
inline constexpr char kNetDefInitNet[] = "init_net.pb";
inline constexpr char kNetDefPredictNet[] = "predict_net.pb";

struct VersionDir {
  int64_t version = 0;
  std::string path;         // <root>/<model>/<version>
  std::string fingerprint;  // changes whenever a file in the folder changes
};

struct ModelDir {
  std::string name;
  std::string path;
  bool has_config = false;
  std::string config_text;           // config.pbtxt's contents
  std::vector<VersionDir> versions;  // ascending
};

// InvalidArgument unless `name` can name a model: not empty, at most 255 bytes, no '/', '\\',
// "..", NUL or control characters, not starting with '.'.
absl::Status ValidateModelName(absl::string_view name);

// A request's version string as a number; InvalidArgument for anything but a plain decimal.
absl::StatusOr<int64_t> ParseVersion(absl::string_view version);

// The fingerprint of the files under `path` (recursively); "" if it cannot be read.
std::string FingerprintFolder(const std::string& path);

class RepositorySource {
 public:
  explicit RepositorySource(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  // NotFound or InvalidArgument unless the root is a readable folder.
  absl::Status CheckRoot() const;
  // The model folders, sorted by name (names that fail ValidateModelName are skipped).
  absl::StatusOr<std::vector<std::string>> ListModels() const;
  // Whether <root>/<name> is a folder (and `name` a valid model name); cheap.
  bool HasModelFolder(const std::string& name) const;
  // One model's folder; NotFound when it does not exist.
  absl::StatusOr<ModelDir> ReadModel(const std::string& name) const;

 private:
  std::string root_;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_REPOSITORY_SOURCE_H_

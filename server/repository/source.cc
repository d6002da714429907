#include "server/repository/source.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace cortado {
namespace {

constexpr size_t kMaxConfigBytes = 4 << 20;

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Entries of a folder other than "." and "..", sorted; empty if it cannot be read.
std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool IsPlainNumber(absl::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void Fingerprint(const std::string& path, const std::string& rel, int depth, std::string* out) {
  for (const std::string& name : ListDir(path)) {
    std::string full = path + "/" + name;
    std::string rel_name = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    if (stat(full.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth < 4) Fingerprint(full, rel_name, depth + 1, out);
      continue;
    }
    absl::StrAppend(out, rel_name, ":", static_cast<int64_t>(st.st_size), ":",
                    static_cast<int64_t>(st.st_mtim.tv_sec), ".",
                    static_cast<int64_t>(st.st_mtim.tv_nsec), ";");
  }
}

}  // namespace

absl::Status ValidateModelName(absl::string_view name) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("invalid model name '", name, "': ", why));
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 255) return bad("longer than 255 bytes");
  if (absl::StrContains(name, "..")) return bad("'..' is not allowed");
  for (char c : name) {
    if (c == '/' || c == '\\') return bad("'/' and '\\' are not allowed");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return bad("control characters are not allowed");
    }
  }
  if (name[0] == '.') return bad("it must not start with '.'");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseVersion(absl::string_view version) {
  if (!IsPlainNumber(version)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid model version '", version, "': expected a non-negative decimal number"));
  }
  int64_t v = 0;
  for (char c : version) v = v * 10 + (c - '0');
  return v;
}

std::string FingerprintFolder(const std::string& path) {
  std::string out;
  Fingerprint(path, "", 0, &out);
  return out;
}

absl::Status RepositorySource::CheckRoot() const {
  struct stat st;
  if (stat(root_.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("model repository '", root_,
                                            "' does not exist: ", std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("model repository '", root_, "' is not a folder"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> RepositorySource::ListModels() const {
  RETURN_IF_ERROR(CheckRoot());
  std::vector<std::string> models;
  for (const std::string& name : ListDir(root_)) {
    if (!ValidateModelName(name).ok()) continue;
    if (IsDirectory(root_ + "/" + name)) models.push_back(name);
  }
  return models;
}

bool RepositorySource::HasModelFolder(const std::string& name) const {
  return ValidateModelName(name).ok() && IsDirectory(root_ + "/" + name);
}

absl::StatusOr<ModelDir> RepositorySource::ReadModel(const std::string& name) const {
  RETURN_IF_ERROR(ValidateModelName(name));
  ModelDir dir;
  dir.name = name;
  dir.path = root_ + "/" + name;
  if (!IsDirectory(dir.path)) {
    return absl::NotFoundError(
        absl::StrCat("no model '", name, "' in the model repository ", root_));
  }
  const std::string config_path = dir.path + "/" + kConfigFile;
  struct stat st;
  if (stat(config_path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    if (static_cast<size_t>(st.st_size) > kMaxConfigBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(config_path, " is larger than ", kMaxConfigBytes, " bytes"));
    }
    std::ifstream in(config_path, std::ios::binary);
    if (!in) {
      return absl::PermissionDeniedError(absl::StrCat("cannot read ", config_path));
    }
    std::ostringstream text;
    text << in.rdbuf();
    dir.has_config = true;
    dir.config_text = text.str();
  }
  for (const std::string& entry : ListDir(dir.path)) {
    // Dot-prefixed temporaries, config.pbtxt, anything else; "01" would alias "1".
    if (!IsPlainNumber(entry) || (entry.size() > 1 && entry[0] == '0')) continue;
    std::string path = dir.path + "/" + entry;
    if (!IsDirectory(path)) continue;
    VersionDir v;
    v.version = ParseVersion(entry).value();
    v.path = path;
    v.fingerprint = FingerprintFolder(path);
    dir.versions.push_back(std::move(v));
  }
  std::sort(dir.versions.begin(), dir.versions.end(),
            [](const VersionDir& a, const VersionDir& b) { return a.version < b.version; });
  return dir;
}

}  // namespace cortado

// Small ONNX models written by tests into temporary model repositories. Test-only; the
// functions are pure apart from the file helpers.
#ifndef CORTADO_SERVER_REPOSITORY_TEST_MODELS_H_
#define CORTADO_SERVER_REPOSITORY_TEST_MODELS_H_

#include <cstdint>
#include <string>

namespace cortado {
namespace testing_models {

// y = x + c, with x and y FP32 [batch, width] (batch dynamic, named "N"). Tells the versions of
// a model apart by c.
std::string AddConstModel(float c, int64_t width = 4);
// y = table[int64(x)], with x and y FP32 [batch, width] and a constant table of `size` values,
// table[i] = 10 i: an x holding an index outside [-size, size) fails its run.
std::string TableLookupModel(int64_t size, int64_t width = 4);
// y = NoSuchOp(x): imports, but fails to load (unsupported operator).
std::string UnsupportedOpModel();

// A fresh empty folder under TEST_TMPDIR (or /tmp).
std::string MakeTempDir();
// Writes `bytes` to `path`, creating missing parent folders.
void WriteFile(const std::string& path, const std::string& bytes);
// Publishes a version the documented way: writes <model_dir>/.tmp-<v>/model.onnx, then renames
// the folder to <model_dir>/<v>.
void PublishVersion(const std::string& model_dir, int64_t version, const std::string& bytes);
// rm -rf.
void RemoveTree(const std::string& path);

}  // namespace testing_models
}  // namespace cortado

#endif  // CORTADO_SERVER_REPOSITORY_TEST_MODELS_H_

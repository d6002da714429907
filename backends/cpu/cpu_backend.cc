// The reference CPU backend: runs the portable kernels that ops/ registers under "cpu".
// Lowest priority, so every faster backend is asked first; it supports every op in ops/.
#include "backends/backend.h"

namespace cortado {
namespace {

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return kCpuBackend; }
  int priority() const override { return 0; }
};

CORTADO_REGISTER_BACKEND(CpuBackend);

}  // namespace
}  // namespace cortado

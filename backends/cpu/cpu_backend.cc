#include "backends/cpu/cpu_backend.h"

#include "backends/backend.h"

namespace cortado {
namespace {

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return kCpuBackend; }
  int priority() const override { return 0; }
};

class CpuOptBackend final : public Backend {
 public:
  std::string name() const override { return kCpuOptBackend; }
  int priority() const override { return 5; }
};

CORTADO_REGISTER_BACKEND(CpuBackend);
CORTADO_REGISTER_BACKEND(CpuOptBackend);

}  // namespace
}  // namespace cortado

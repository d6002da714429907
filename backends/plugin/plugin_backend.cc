#include "backends/plugin/plugin_backend.h"

#include <dirent.h>
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "backends/plugin/cortado_plugin.h"
#include "core/child_process.h"

namespace cortado {
namespace {

// The library, closed when the last backend, kernel or allocator using it is gone.
struct Library {
  void* handle = nullptr;
  const cortado_plugin* table = nullptr;
  ~Library() {
    if (handle != nullptr) dlclose(handle);
  }
};

constexpr std::pair<DType, int32_t> kDTypes[] = {
    {DType::kFloat32, CORTADO_FLOAT32}, {DType::kUInt8, CORTADO_UINT8},
    {DType::kInt8, CORTADO_INT8},       {DType::kInt32, CORTADO_INT32},
    {DType::kInt64, CORTADO_INT64},     {DType::kBool, CORTADO_BOOL},
    {DType::kFloat16, CORTADO_FLOAT16}, {DType::kFloat64, CORTADO_FLOAT64}};

int32_t ToPlugin(DType dtype) {
  for (const auto& [ours, theirs] : kDTypes) {
    if (ours == dtype) return theirs;
  }
  return 0;
}

DType FromPlugin(int32_t dtype) {
  for (const auto& [ours, theirs] : kDTypes) {
    if (theirs == dtype) return ours;
  }
  return DType::kUndefined;
}

absl::Status Check(const Library& lib, cortado_status s, absl::string_view what) {
  if (s == CORTADO_OK) return absl::OkStatus();
  const char* message = lib.table->last_error();
  return absl::InternalError(absl::StrCat("plug-in '", lib.table->name, "' ", what, ": ",
                                          message != nullptr ? message : "(no message)"));
}

cortado_tensor Describe(DType dtype, const Shape* shape) {
  cortado_tensor t{};
  t.dtype = ToPlugin(dtype);
  t.rank = -1;
  if (shape != nullptr && shape->size() <= CORTADO_MAX_RANK) {
    t.rank = static_cast<int32_t>(shape->size());
    std::copy(shape->begin(), shape->end(), t.dims);
  }
  return t;
}

// A node as the plug-in sees it; owns what the cortado_op_desc points to.
class Desc {
 public:
  explicit Desc(const KernelInfo& info) {
    for (size_t i = 0; i < info.input_dtypes.size(); ++i) {
      const auto& shape = i < info.input_shapes.size() ? info.input_shapes[i] : std::nullopt;
      const Tensor* constant = i < info.constant_inputs.size() ? info.constant_inputs[i] : nullptr;
      inputs_.push_back(constant != nullptr
                            ? Describe(constant->dtype(), &constant->shape())
                            : Describe(info.input_dtypes[i], shape ? &*shape : nullptr));
      if (constant != nullptr) inputs_.back().host_data = constant->raw_data();
    }
    if (info.attrs != nullptr) {
      for (const auto& [name, value] : info.attrs->values()) {
        cortado_attribute a{};
        a.name = name.c_str();
        if (auto* i = std::get_if<int64_t>(&value)) {
          a.type = CORTADO_ATTR_INT, a.i = *i;
        } else if (auto* f = std::get_if<float>(&value)) {
          a.type = CORTADO_ATTR_FLOAT, a.f = *f;
        } else if (auto* s = std::get_if<std::string>(&value)) {
          a.type = CORTADO_ATTR_STRING, a.s = s->c_str();
        } else if (auto* is = std::get_if<std::vector<int64_t>>(&value)) {
          a.type = CORTADO_ATTR_INTS, a.ints = is->data(),
          a.count = static_cast<int32_t>(is->size());
        } else if (auto* fs = std::get_if<std::vector<float>>(&value)) {
          a.type = CORTADO_ATTR_FLOATS, a.floats = fs->data(),
          a.count = static_cast<int32_t>(fs->size());
        } else {
          unsupported_ = true;  // strings, tensors and graphs do not cross the ABI
          continue;
        }
        attrs_.push_back(a);
      }
    }
    desc_ = {info.op_type.c_str(),
             info.domain.c_str(),
             info.opset,
             attrs_.data(),
             static_cast<int32_t>(attrs_.size()),
             inputs_.data(),
             static_cast<int32_t>(inputs_.size()),
             info.num_outputs};
  }
  const cortado_op_desc* get() const { return &desc_; }
  bool unsupported() const { return unsupported_; }

 private:
  std::vector<cortado_tensor> inputs_;
  std::vector<cortado_attribute> attrs_;
  cortado_op_desc desc_;
  bool unsupported_ = false;
};

class PluginAllocator final : public Allocator {
 public:
  PluginAllocator(std::shared_ptr<Library> lib, Device device)
      : lib_(std::move(lib)), device_(device) {}
  Device device() const override { return device_; }
  // The "pointer" is the plug-in's buffer handle.
  void* Allocate(size_t nbytes) override {
    cortado_buffer buffer = nullptr;
    if (lib_->table->buffer_alloc(std::max<size_t>(nbytes, 1), &buffer) != CORTADO_OK)
      return nullptr;
    return buffer;
  }
  void Free(void* ptr) override {
    if (ptr != nullptr) lib_->table->buffer_free(static_cast<cortado_buffer>(ptr));
  }

 private:
  std::shared_ptr<Library> lib_;
  Device device_;
};

class PluginStream final : public Stream {
 public:
  PluginStream(std::shared_ptr<Library> lib, cortado_queue queue)
      : lib_(std::move(lib)), queue(queue) {}
  ~PluginStream() override {
    lib_->table->queue_sync(queue);
    lib_->table->queue_destroy(queue);
  }

 private:
  std::shared_ptr<Library> lib_;

 public:
  const cortado_queue queue;
};

cortado_queue QueueOf(Stream* stream) {
  return stream == nullptr ? nullptr : static_cast<PluginStream*>(stream)->queue;
}

class PluginKernel final : public Kernel {
 public:
  PluginKernel(std::shared_ptr<Library> lib, cortado_op op) : lib_(std::move(lib)), op_(op) {}
  ~PluginKernel() override { lib_->table->op_destroy(op_); }

  bool InputOnHost(int i) const override { return lib_->table->op_input_on_host(op_, i) != 0; }

  absl::Status Compute(KernelContext& ctx) const override {
    std::vector<cortado_tensor> in(ctx.num_inputs());
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t = ctx.input(i);
      if (t == nullptr) continue;
      in[i] = Describe(t->dtype(), &t->shape());
      if (in[i].rank < 0) return absl::InvalidArgumentError("a plug-in takes at most rank 8");
      if (InputOnHost(i)) {
        in[i].host_data = t->raw_data();
      } else {
        in[i].buffer = static_cast<cortado_buffer>(const_cast<void*>(t->raw_data()));
      }
    }
    std::vector<cortado_tensor> out(ctx.num_outputs());
    const int32_t n_in = static_cast<int32_t>(in.size()), n_out = static_cast<int32_t>(out.size());
    RETURN_IF_ERROR(
        Check(*lib_, lib_->table->op_infer(op_, in.data(), n_in, out.data(), n_out), "op_infer"));
    for (int i = 0; i < n_out; ++i) {
      const DType dtype = FromPlugin(out[i].dtype);
      if (dtype == DType::kUndefined || out[i].rank < 0 || out[i].rank > CORTADO_MAX_RANK) {
        return absl::InternalError(absl::StrCat("plug-in '", lib_->table->name,
                                                "' op_infer gave output ", i, " no valid type"));
      }
      ASSIGN_OR_RETURN(Tensor * t,
                       ctx.AllocateOutput(i, dtype, Shape(out[i].dims, out[i].dims + out[i].rank)));
      out[i].buffer = static_cast<cortado_buffer>(t->raw_data());
    }
    return Check(
        *lib_, lib_->table->op_run(op_, QueueOf(ctx.stream()), in.data(), n_in, out.data(), n_out),
        "op_run");
  }

 private:
  std::shared_ptr<Library> lib_;
  cortado_op op_;
};

class PluginBackend final : public Backend {
 public:
  PluginBackend(std::shared_ptr<Library> lib, int index)
      : lib_(lib), device_{DeviceType::kPlugin, index}, allocator_(std::move(lib), device_) {}

  std::string name() const override { return lib_->table->name; }
  int priority() const override { return lib_->table->priority; }
  Device device() const override { return device_; }
  Allocator* allocator() const override { return &allocator_; }

  bool Supports(const KernelInfo& node) const override {
    Desc desc(node);
    return !desc.unsupported() && lib_->table->supports(desc.get()) != 0;
  }
  absl::StatusOr<std::unique_ptr<Kernel>> CreateKernel(const KernelInfo& node) const override {
    Desc desc(node);
    cortado_op op = nullptr;
    if (desc.unsupported() || lib_->table->op_compile(desc.get(), &op) != CORTADO_OK) {
      const char* why =
          desc.unsupported() ? "an attribute the ABI cannot carry" : lib_->table->last_error();
      return absl::UnimplementedError(absl::StrCat("plug-in '", name(), "' cannot compile ",
                                                   node.op_type, ": ", why ? why : "(no message)"));
    }
    return std::unique_ptr<Kernel>(new PluginKernel(lib_, op));
  }
  absl::StatusOr<std::unique_ptr<Stream>> CreateStream() const override {
    cortado_queue queue = nullptr;
    RETURN_IF_ERROR(Check(*lib_, lib_->table->queue_create(&queue), "queue_create"));
    return std::unique_ptr<Stream>(new PluginStream(lib_, queue));
  }
  absl::Status CopyFromHost(const Tensor& src, Tensor& dst, Stream* stream) const override {
    RETURN_IF_ERROR(CheckCopy(src, dst));
    return Check(
        *lib_,
        lib_->table->copy_from_host(QueueOf(stream), src.raw_data(),
                                    static_cast<cortado_buffer>(dst.raw_data()), src.nbytes()),
        "copy_from_host");
  }
  absl::Status CopyToHost(const Tensor& src, Tensor& dst, Stream* stream) const override {
    RETURN_IF_ERROR(CheckCopy(src, dst));
    return Check(
        *lib_,
        lib_->table->copy_to_host(QueueOf(stream),
                                  static_cast<cortado_buffer>(const_cast<void*>(src.raw_data())),
                                  dst.raw_data(), src.nbytes()),
        "copy_to_host");
  }
  absl::Status Sync(Stream* stream) const override {
    if (stream == nullptr) return absl::OkStatus();
    return Check(*lib_, lib_->table->queue_sync(QueueOf(stream)), "queue_sync");
  }

 private:
  std::shared_ptr<Library> lib_;
  Device device_;
  mutable PluginAllocator allocator_;
};

// dlopen in a child process: a library whose initializers crash takes only the child down.
absl::Status ProbeInChild(const std::string& path) {
  absl::Status probe = RunInChild(
      [&] {
        void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) return;
        auto version = reinterpret_cast<cortado_plugin_api_version_fn>(
            dlsym(handle, "cortado_plugin_api_version"));
        auto get = reinterpret_cast<cortado_plugin_get_fn>(dlsym(handle, "cortado_plugin_get"));
        if (version != nullptr && get != nullptr && version() == CORTADO_PLUGIN_API_VERSION) get();
      },
      absl::Seconds(60));
  if (probe.ok()) return probe;
  return absl::FailedPreconditionError(absl::StrCat(probe.message(), " while loading"));
}

absl::Status MissingEntry(const char* entry) {
  return absl::FailedPreconditionError(absl::StrCat("its table has no ", entry));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> LoadPlugin(const std::string& path, int index) {
  RETURN_IF_ERROR(ProbeInChild(path));
  auto lib = std::make_shared<Library>();
  lib->handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib->handle == nullptr) return absl::FailedPreconditionError(dlerror());
  for (const char* symbol : {"cortado_plugin_api_version", "cortado_plugin_get"}) {
    if (dlsym(lib->handle, symbol) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("it does not export ", symbol));
    }
  }
  const uint32_t version = reinterpret_cast<cortado_plugin_api_version_fn>(
      dlsym(lib->handle, "cortado_plugin_api_version"))();
  if (version != CORTADO_PLUGIN_API_VERSION) {
    return absl::FailedPreconditionError(absl::StrCat("it was built for API version ", version,
                                                      ", cortadod has version ",
                                                      CORTADO_PLUGIN_API_VERSION));
  }
  const cortado_plugin* t =
      reinterpret_cast<cortado_plugin_get_fn>(dlsym(lib->handle, "cortado_plugin_get"))();
  if (t == nullptr) return absl::FailedPreconditionError("cortado_plugin_get returned no table");
  if (t->api_version != CORTADO_PLUGIN_API_VERSION) {
    return absl::FailedPreconditionError(absl::StrCat("its table has API version ", t->api_version,
                                                      ", cortadod has version ",
                                                      CORTADO_PLUGIN_API_VERSION));
  }
  if (t->name == nullptr || t->name[0] == '\0') return MissingEntry("name");
#define CORTADO_CHECK_ENTRY(entry) \
  if (t->entry == nullptr) return MissingEntry(#entry)
  CORTADO_CHECK_ENTRY(last_error);
  CORTADO_CHECK_ENTRY(supports);
  CORTADO_CHECK_ENTRY(buffer_alloc);
  CORTADO_CHECK_ENTRY(buffer_free);
  CORTADO_CHECK_ENTRY(copy_from_host);
  CORTADO_CHECK_ENTRY(copy_to_host);
  CORTADO_CHECK_ENTRY(queue_create);
  CORTADO_CHECK_ENTRY(queue_destroy);
  CORTADO_CHECK_ENTRY(queue_sync);
  CORTADO_CHECK_ENTRY(op_compile);
  CORTADO_CHECK_ENTRY(op_destroy);
  CORTADO_CHECK_ENTRY(op_input_on_host);
  CORTADO_CHECK_ENTRY(op_infer);
  CORTADO_CHECK_ENTRY(op_run);
#undef CORTADO_CHECK_ENTRY
  lib->table = t;
  return std::unique_ptr<Backend>(new PluginBackend(std::move(lib), index));
}

absl::StatusOr<PluginLoad> LoadPlugins(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the plug-in folder ", dir, ": ", std::strerror(errno)));
  }
  std::vector<std::string> paths;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0) {
      paths.push_back(dir + "/" + name);
    }
  }
  closedir(d);
  std::sort(paths.begin(), paths.end());
  PluginLoad load;
  for (const std::string& path : paths) {
    auto backend = LoadPlugin(path, static_cast<int>(load.backends.size()));
    if (backend.ok()) {
      const std::string name = (*backend)->name();
      bool taken = BackendRegistry::Global().Find(name) != nullptr;
      for (const auto& b : load.backends) taken = taken || b->name() == name;
      if (taken) {
        backend = absl::AlreadyExistsError(
            absl::StrCat("a backend named '", name, "' is already registered"));
      }
    }
    if (!backend.ok()) {
      load.refused.push_back(absl::StrCat(path, ": ", backend.status().message()));
      continue;
    }
    load.loaded.push_back(absl::StrCat(path, ": backend '", (*backend)->name(), "' (API ",
                                       CORTADO_PLUGIN_API_VERSION, ", priority ",
                                       (*backend)->priority(), ")"));
    load.backends.push_back(*std::move(backend));
  }
  std::stable_sort(load.backends.begin(), load.backends.end(),
                   [](const auto& a, const auto& b) { return a->priority() > b->priority(); });
  return load;
}

}  // namespace cortado

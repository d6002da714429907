#include "server/repository/test_models.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "onnx/onnx_pb.h"

namespace cortado {
namespace testing_models {
namespace {

void AddValue(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
              const std::string& name, int64_t width) {
  onnx::ValueInfoProto* v = list->Add();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("N");
  tt->mutable_shape()->add_dim()->set_dim_value(width);
}

std::string OneNodeModel(const std::string& op, bool with_const, float c, int64_t width) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("test");
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(op);
  n->add_input("x");
  if (with_const) {
    onnx::TensorProto* t = g->add_initializer();
    t->set_name("c");
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_float_data(c);
    n->add_input("c");
  }
  n->add_output("y");
  AddValue(g->mutable_input(), "x", width);
  AddValue(g->mutable_output(), "y", width);
  return model.SerializeAsString();
}

void MakeDirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') mkdir(path.substr(0, i).c_str(), 0755);
  }
}

}  // namespace

std::string AddConstModel(float c, int64_t width) { return OneNodeModel("Add", true, c, width); }

std::string TableLookupModel(int64_t size, int64_t width) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("lookup");
  onnx::TensorProto* table = g->add_initializer();
  table->set_name("table");
  table->set_data_type(onnx::TensorProto::FLOAT);
  table->add_dims(size);
  for (int64_t i = 0; i < size; ++i) table->add_float_data(10.0f * static_cast<float>(i));
  onnx::NodeProto* cast = g->add_node();
  cast->set_op_type("Cast");
  cast->set_name("cast");
  cast->add_input("x");
  cast->add_output("index");
  onnx::AttributeProto* to = cast->add_attribute();
  to->set_name("to");
  to->set_type(onnx::AttributeProto::INT);
  to->set_i(onnx::TensorProto::INT64);
  onnx::NodeProto* gather = g->add_node();
  gather->set_op_type("Gather");
  gather->set_name("gather");
  gather->add_input("table");
  gather->add_input("index");
  gather->add_output("y");
  AddValue(g->mutable_input(), "x", width);
  AddValue(g->mutable_output(), "y", width);
  return model.SerializeAsString();
}

std::string UnsupportedOpModel() { return OneNodeModel("NoSuchOp", false, 0, 4); }

std::string MakeTempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/repoXXXXXX";
  char* dir = mkdtemp(&tmpl[0]);
  return dir ? std::string(dir) : std::string();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  MakeDirs(path.substr(0, path.rfind('/')));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

void PublishVersion(const std::string& model_dir, int64_t version, const std::string& bytes) {
  const std::string tmp = model_dir + "/.tmp-" + std::to_string(version);
  WriteFile(tmp + "/model.onnx", bytes);
  rename(tmp.c_str(), (model_dir + "/" + std::to_string(version)).c_str());
}

void RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") RemoveTree(path + "/" + n);
      }
      closedir(d);
    }
    rmdir(path.c_str());
  } else {
    unlink(path.c_str());
  }
}

}  // namespace testing_models
}  // namespace cortado

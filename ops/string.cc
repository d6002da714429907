// The text operators: StringNormalizer (opset 10), StringConcat (20), StringSplit (20),
// RegexFullMatch (20, RE2 syntax, with RE2) and TfIdfVectorizer (9).
// Semantics follow ONNX's reference implementation (onnx/reference/ops): case changes are ASCII
// (ONNX's reference also strips accents of non-ASCII text, which cortado does not), and
// StringSplit without a delimiter splits on runs of whitespace as Python's str.split() does.
#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/elementwise.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"
#include "re2/re2.h"

namespace cortado {
namespace {

absl::Status Invalid(absl::string_view op, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", what));
}

absl::Status CheckString(absl::string_view op, const Tensor& t) {
  if (t.dtype() != DType::kString) {
    return Invalid(op, absl::StrCat("input must be string, got ", DTypeName(t.dtype())));
  }
  return absl::OkStatus();
}

std::string ChangeCase(std::string s, const std::string& action) {
  if (action == "LOWER") {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else if (action == "UPPER") {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

// Drops the space-separated words of `text` that are in `stops`.
std::string RemoveStopwords(const std::string& text, const std::set<std::string>& stops) {
  std::string out;
  bool first = true;
  size_t begin = 0;
  while (true) {
    const size_t end = text.find(' ', begin);
    const std::string word = text.substr(begin, end == std::string::npos ? end : end - begin);
    if (!stops.count(word)) {
      if (!first) out += ' ';
      out += word;
      first = false;
    }
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// StringNormalizer: X [C] or [1, C]; stopwords removed (compared before the case change when
// is_case_sensitive, after it otherwise), case changed, empty results dropped (all dropped
// leaves one empty string).

class StringNormalizerKernel : public Kernel {
 public:
  explicit StringNormalizerKernel(const KernelInfo& info)
      : action_(info.attrs->GetString("case_change_action", "NONE")),
        case_sensitive_(info.attrs->GetInt("is_case_sensitive") != 0) {
    for (const std::string& w : info.attrs->GetStrings("stopwords")) {
      raw_stops_.insert(w);
      stops_.insert(ChangeCase(w, action_));
    }
  }

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "StringNormalizer";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    RETURN_IF_ERROR(CheckString(op, *x));
    if (action_ != "LOWER" && action_ != "UPPER" && action_ != "NONE") {
      return Invalid(op, absl::StrCat("unknown case_change_action '", action_, "'"));
    }
    if (x->rank() != 1 && !(x->rank() == 2 && x->dim(0) == 1)) {
      return Invalid(op, absl::StrCat("X must be [C] or [1, C], got ", ShapeToString(x->shape())));
    }
    std::vector<std::string> kept;
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      std::string s = x->data<std::string>()[i];
      if (case_sensitive_ && !raw_stops_.empty()) s = RemoveStopwords(s, raw_stops_);
      s = ChangeCase(std::move(s), action_);
      if (!case_sensitive_ && !stops_.empty()) s = RemoveStopwords(s, stops_);
      if (!s.empty()) kept.push_back(std::move(s));
    }
    if (kept.empty()) kept.emplace_back();
    const int64_t n = static_cast<int64_t>(kept.size());
    ASSIGN_OR_RETURN(
        Tensor * y, ctx.AllocateOutput(0, DType::kString, x->rank() == 1 ? Shape{n} : Shape{1, n}));
    std::move(kept.begin(), kept.end(), y->data<std::string>());
    return absl::OkStatus();
  }

 private:
  const std::string action_;
  const bool case_sensitive_;
  std::set<std::string> raw_stops_, stops_;
};

absl::Status InferStringNormalizer(InferenceContext& ctx) {
  const auto& x = ctx.input(0).shape;
  ctx.set_output(
      0, TensorType{DType::kString, x ? std::optional<Shape>(Shape(x->size(), -1)) : std::nullopt});
  if (x && x->size() == 2) ctx.set_output(0, TensorType{DType::kString, Shape{1, -1}});
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// StringConcat: a + b elementwise, numpy broadcasting.

struct StringConcatFn : Stateless {
  using Stateless::Stateless;
  std::string operator()(const std::string& a, const std::string& b) const { return a + b; }
};

// ---------------------------------------------------------------------------------------------
// StringSplit: Y [*X.shape, longest] the pieces (padded with ""), Z [*X.shape] their counts.

std::vector<std::string> Split(const std::string& s, const std::string& delimiter,
                               std::optional<int64_t> maxsplit) {
  std::vector<std::string> parts;
  int64_t splits = 0;
  const bool limited = maxsplit.has_value() && *maxsplit >= 0;
  if (delimiter.empty()) {  // runs of whitespace, leading and trailing ignored
    size_t i = 0;
    auto space = [&](size_t k) { return std::isspace(static_cast<unsigned char>(s[k])) != 0; };
    while (i < s.size()) {
      while (i < s.size() && space(i)) ++i;
      if (i == s.size()) break;
      if (limited && splits == *maxsplit) {  // the rest, trailing whitespace kept
        parts.push_back(s.substr(i));
        break;
      }
      size_t j = i;
      while (j < s.size() && !space(j)) ++j;
      parts.push_back(s.substr(i, j - i));
      ++splits;
      i = j;
    }
    return parts;
  }
  size_t begin = 0;
  while (true) {
    const size_t at = limited && splits == *maxsplit ? std::string::npos : s.find(delimiter, begin);
    if (at == std::string::npos) {
      parts.push_back(s.substr(begin));
      break;
    }
    parts.push_back(s.substr(begin, at - begin));
    ++splits;
    begin = at + delimiter.size();
  }
  return parts;
}

class StringSplitKernel : public Kernel {
 public:
  explicit StringSplitKernel(const KernelInfo& info)
      : delimiter_(info.attrs->GetString("delimiter")) {
    if (info.attrs->Has("maxsplit")) maxsplit_ = info.attrs->GetInt("maxsplit");
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    RETURN_IF_ERROR(CheckString("StringSplit", *x));
    std::vector<std::vector<std::string>> parts(x->num_elements());
    int64_t longest = 0;
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      parts[i] = Split(x->data<std::string>()[i], delimiter_, maxsplit_);
      longest = std::max<int64_t>(longest, static_cast<int64_t>(parts[i].size()));
    }
    Shape y_shape = x->shape();
    y_shape.push_back(longest);
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kString, y_shape));
    ASSIGN_OR_RETURN(Tensor * z, ctx.AllocateOutput(1, DType::kInt64, x->shape()));
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      z->data<int64_t>()[i] = static_cast<int64_t>(parts[i].size());
      for (size_t k = 0; k < parts[i].size(); ++k) {
        y->data<std::string>()[i * longest + static_cast<int64_t>(k)] = std::move(parts[i][k]);
      }
    }
    return absl::OkStatus();
  }

 private:
  const std::string delimiter_;
  std::optional<int64_t> maxsplit_;
};

absl::Status InferStringSplit(InferenceContext& ctx) {
  const auto& x = ctx.input(0).shape;
  std::optional<Shape> y;
  if (x) {
    y = *x;
    y->push_back(-1);
  }
  ctx.set_output(0, TensorType{DType::kString, y});
  ctx.set_output(1, TensorType{DType::kInt64, x});
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// RegexFullMatch: whether each string matches `pattern` whole.

class RegexFullMatchKernel : public Kernel {
 public:
  explicit RegexFullMatchKernel(const KernelInfo& info)
      : regex_(std::make_unique<re2::RE2>(info.attrs->GetString("pattern"), re2::RE2::Quiet)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "RegexFullMatch";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    RETURN_IF_ERROR(CheckString(op, *x));
    if (!regex_->ok()) return Invalid(op, absl::StrCat("bad pattern: ", regex_->error()));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kBool, x->shape()));
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      y->data<bool>()[i] = re2::RE2::FullMatch(x->data<std::string>()[i], *regex_);
    }
    return absl::OkStatus();
  }

 private:
  const std::unique_ptr<const re2::RE2> regex_;  // RE2 is thread-safe for matching
};

// ---------------------------------------------------------------------------------------------
// TfIdfVectorizer: counts the n-grams of the pool (pool_int64s or pool_strings, grouped by size
// through ngram_counts; sizes min_gram_length..max_gram_length are counted) in each row of X,
// with skips of up to max_skip_count between an n-gram's items (unigrams counted once), and
// weighs the counts (TF, IDF, TFIDF) into [B, max(ngram_indexes) + 1] (or [that] for 1-D X).

class TfIdfKernel : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    constexpr absl::string_view op = "TfIdfVectorizer";
    std::unique_ptr<TfIdfKernel> k(new TfIdfKernel());
    const AttributeMap& a = *info.attrs;
    k->min_ = a.GetInt("min_gram_length");
    k->max_ = a.GetInt("max_gram_length");
    k->max_skip_ = a.GetInt("max_skip_count");
    k->mode_ = a.GetString("mode");
    k->indexes_ = a.GetInts("ngram_indexes");
    k->weights_ = a.GetFloats("weights");
    if (k->mode_ != "TF" && k->mode_ != "IDF" && k->mode_ != "TFIDF") {
      return Invalid(op, absl::StrCat("unknown mode '", k->mode_, "'"));
    }
    if (k->min_ < 1 || k->max_ < k->min_ || k->max_skip_ < 0 || k->indexes_.empty()) {
      return Invalid(op,
                     "needs 1 <= min_gram_length <= max_gram_length, max_skip_count >= 0 "
                     "and ngram_indexes");
    }
    std::vector<std::string> pool = a.GetStrings("pool_strings");
    for (int64_t v : a.GetInts("pool_int64s")) pool.push_back(std::to_string(v));
    const std::vector<int64_t> counts = a.GetInts("ngram_counts");
    k->output_size_ = *std::max_element(k->indexes_.begin(), k->indexes_.end()) + 1;
    int64_t id = 0;  // n-gram number, the index into ngram_indexes
    for (size_t i = 0; i < counts.size(); ++i) {
      const int64_t size = static_cast<int64_t>(i) + 1;
      const int64_t end = i + 1 < counts.size() ? counts[i + 1] : static_cast<int64_t>(pool.size());
      if (counts[i] < 0 || end < counts[i] || end > static_cast<int64_t>(pool.size())) {
        return Invalid(op, "ngram_counts do not fit the pool");
      }
      for (int64_t at = counts[i]; at + size <= end; at += size, ++id) {
        if (size < k->min_ || size > k->max_) continue;
        if (id >= static_cast<int64_t>(k->indexes_.size()) || k->indexes_[id] < 0) {
          return Invalid(op, "ngram_indexes does not cover the pool");
        }
        std::vector<std::string> gram(pool.begin() + at, pool.begin() + at + size);
        for (int64_t n = 1; n < size; ++n) {
          k->prefixes_.insert(std::vector<std::string>(gram.begin(), gram.begin() + n));
        }
        k->prefixes_.insert(gram);
        k->grams_[gram] = k->indexes_[id];
      }
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "TfIdfVectorizer";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() > 2 || (x->rank() == 2 && x->dim(0) < 1)) {
      return Invalid(op, absl::StrCat("X must be [C] or [B, C], got ", ShapeToString(x->shape())));
    }
    const int64_t rows = x->rank() == 2 ? x->dim(0) : 1;
    const int64_t cols = x->rank() == 0 ? 1 : x->dim(x->rank() - 1);
    std::vector<std::string> items(x->num_elements());
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      if (x->dtype() == DType::kString) {
        items[i] = x->data<std::string>()[i];
      } else {
        items[i] = std::to_string(static_cast<int64_t>(x->ElementAsDouble(i)));
      }
    }
    std::vector<int64_t> freq(rows * output_size_, 0);
    for (int64_t r = 0; r < rows; ++r) {
      const std::string* row = items.data() + r * cols;
      int64_t start_size = min_;
      for (int64_t skip = 1; skip <= max_skip_ + 1; ++skip) {
        for (int64_t start = 0; start < cols; ++start) {
          if (start + skip * (start_size - 1) >= cols) break;
          std::vector<std::string> gram;
          for (int64_t at = start; at < cols && static_cast<int64_t>(gram.size()) < max_;
               at += skip) {
            gram.push_back(row[at]);
            if (!prefixes_.count(gram)) break;
            auto hit = grams_.find(gram);
            if (static_cast<int64_t>(gram.size()) >= start_size && hit != grams_.end()) {
              ++freq[r * output_size_ + hit->second];
            }
          }
        }
        if (start_size == 1) {  // unigrams do not depend on the skip: counted once
          start_size = 2;
          if (start_size > max_) break;
        }
      }
    }
    const Shape shape = x->rank() == 2 ? Shape{rows, output_size_} : Shape{output_size_};
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, shape));
    for (int64_t i = 0; i < rows * output_size_; ++i) {
      const float w = weights_.empty() ? 1.0f : weights_[i % output_size_];
      const float f = static_cast<float>(freq[i]);
      y->data<float>()[i] = mode_ == "TF" ? f : mode_ == "IDF" ? (freq[i] > 0 ? w : 0.0f) : w * f;
    }
    return absl::OkStatus();
  }

 private:
  TfIdfKernel() = default;
  int64_t min_ = 1, max_ = 1, max_skip_ = 0, output_size_ = 0;
  std::string mode_;
  std::vector<int64_t> indexes_;
  std::vector<float> weights_;
  std::set<std::vector<std::string>> prefixes_;        // every prefix of a counted n-gram
  std::map<std::vector<std::string>, int64_t> grams_;  // counted n-gram -> output column
};

}  // namespace

CORTADO_REGISTER_OP(OpSchema("RegexFullMatch")
                        .Versions(20)
                        .Inputs(1, 1)
                        .RequiredAttr("pattern", AttrType::kString)
                        .Infer([](InferenceContext& ctx) {
                          ctx.set_output(0, TensorType{DType::kBool, ctx.input(0).shape});
                          return absl::OkStatus();
                        }));
CORTADO_REGISTER_KERNEL("RegexFullMatch", kCpuBackend, 20, kMaxOpset,
                        std::vector<DType>{DType::kString}, MakeFactory<RegexFullMatchKernel>());

CORTADO_REGISTER_OP(OpSchema("StringNormalizer")
                        .Versions(10)
                        .Inputs(1, 1)
                        .Attr("case_change_action", std::string("NONE"))
                        .Attr("is_case_sensitive", int64_t{0})
                        .OptionalAttr("locale", AttrType::kString)
                        .OptionalAttr("stopwords", AttrType::kStrings)
                        .Infer(InferStringNormalizer));
CORTADO_REGISTER_KERNEL("StringNormalizer", kCpuBackend, 10, kMaxOpset,
                        std::vector<DType>{DType::kString}, MakeFactory<StringNormalizerKernel>());

CORTADO_REGISTER_OP(
    OpSchema("StringConcat").Versions(20).Inputs(2, 2).Infer(InferElementwise<kStr>));
CORTADO_REGISTER_KERNEL("StringConcat", kCpuBackend, 20, kMaxOpset, TypesOf(kStr),
                        (MakeFactory<BinaryKernel<StringConcatFn, kStr>>()));

CORTADO_REGISTER_OP(OpSchema("StringSplit")
                        .Versions(20)
                        .Inputs(1, 1)
                        .Outputs(2, 2)
                        .Attr("delimiter", std::string())
                        .OptionalAttr("maxsplit", AttrType::kInt)
                        .Infer(InferStringSplit));
CORTADO_REGISTER_KERNEL("StringSplit", kCpuBackend, 20, kMaxOpset,
                        std::vector<DType>{DType::kString}, MakeFactory<StringSplitKernel>());

CORTADO_REGISTER_OP(OpSchema("TfIdfVectorizer")
                        .Versions(9)
                        .Inputs(1, 1)
                        .RequiredAttr("max_gram_length", AttrType::kInt)
                        .RequiredAttr("max_skip_count", AttrType::kInt)
                        .RequiredAttr("min_gram_length", AttrType::kInt)
                        .RequiredAttr("mode", AttrType::kString)
                        .RequiredAttr("ngram_counts", AttrType::kInts)
                        .RequiredAttr("ngram_indexes", AttrType::kInts)
                        .OptionalAttr("pool_int64s", AttrType::kInts)
                        .OptionalAttr("pool_strings", AttrType::kStrings)
                        .OptionalAttr("weights", AttrType::kFloats)
                        .Infer([](InferenceContext& ctx) {
                          ctx.set_output(0, TensorType{DType::kFloat32, std::nullopt});
                          return absl::OkStatus();
                        }));
CORTADO_REGISTER_KERNEL("TfIdfVectorizer", kCpuBackend, 9, kMaxOpset,
                        (std::vector<DType>{DType::kString, DType::kInt32, DType::kInt64}),
                        TfIdfKernel::Create);

}  // namespace cortado

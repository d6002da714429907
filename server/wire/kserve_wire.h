// The KServe v2 wire formats, in one place for the server's gRPC and HTTP codecs and both
// clients: datatype names ("FP32", "BYTES", ...), the raw tensor encoding used by gRPC's
// raw_input_contents / raw_output_contents and HTTP's binary tensor data extension, and JSON
// parsing that is safe on hostile input. Pure functions: thread-safe, no state.
//
// Raw encoding: fixed-size types are little-endian row-major; BOOL is one byte per element;
// BYTES elements are each a 4-byte little-endian length followed by that many bytes.
//
// Decoding never allocates anything sized from a shape before checking that the bytes received
// back it, so a small request cannot make the caller allocate much more than it sent.
#ifndef CORTADO_SERVER_WIRE_KSERVE_WIRE_H_
#define CORTADO_SERVER_WIRE_KSERVE_WIRE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "core/status.h"
#include "core/tensor.h"
#include "rapidjson/document.h"

namespace cortado {

// KServe v2 datatype of a dtype ("FP32", "BYTES" for strings, ...; "INVALID" for none).
absl::string_view KServeDatatype(DType dtype);
// The dtype of a KServe v2 datatype name, or InvalidArgument.
absl::StatusOr<DType> DTypeFromKServe(absl::string_view datatype);

// The size of `tensor` in the raw encoding.
size_t RawSize(const Tensor& tensor);
// Appends `tensor` (on the host) in the raw encoding to `out`; InvalidArgument for a BYTES element
// of 4 GiB or more, which the encoding cannot express.
absl::Status AppendRaw(const Tensor& tensor, std::string* out);
// Decodes `raw` as a host tensor of `dtype` and `shape`. InvalidArgument (without the input's
// name, which the caller prefixes) when the bytes do not hold exactly that many elements.
absl::StatusOr<Tensor> DecodeRaw(absl::string_view raw, DType dtype, const Shape& shape);

// Nesting deeper than this is refused by ParseJson.
inline constexpr int kMaxJsonDepth = 128;

// Parses `text` into `doc` without recursion (RapidJSON's iterative parser), accepting NaN and
// Infinity and refusing nesting deeper than kMaxJsonDepth. Numbers are exact: integers that fit
// 64 bits stay integers, and every other number is the double nearest to it (strtod; RapidJSON's
// own conversions are unsafe on hostile input or inexact, see the .cc), so FP64 values written
// in their shortest form round-trip bit for bit. The error is InvalidArgument with the offset
// and reason.
absl::Status ParseJson(absl::string_view text, rapidjson::Document* doc);

}  // namespace cortado

#endif  // CORTADO_SERVER_WIRE_KSERVE_WIRE_H_

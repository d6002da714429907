// Shape: the dimensions of a tensor, row-major. A value type; helpers are pure functions.
#ifndef CORTADO_CORE_SHAPE_H_
#define CORTADO_CORE_SHAPE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace cortado {

using Shape = std::vector<int64_t>;

// Product of the dimensions (1 for a scalar). Dimensions must be non-negative.
int64_t NumElements(const Shape& shape);
// Row-major strides in elements.
std::vector<int64_t> Strides(const Shape& shape);
// "[2,3,4]".
std::string ShapeToString(const Shape& shape);
// Checks that every dimension is >= 0 and the element count fits in int64 and `max_elements`.
absl::Status ValidateShape(const Shape& shape, int64_t max_elements = int64_t{1} << 40);
// Numpy broadcasting of two shapes, or InvalidArgument naming both.
absl::StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b);
// Normalizes a possibly negative axis against `rank`; InvalidArgument when out of range.
absl::StatusOr<int> NormalizeAxis(int64_t axis, int rank);

}  // namespace cortado

#endif  // CORTADO_CORE_SHAPE_H_

// Declarations shared by the pybind11 binding files (one bind_<area>.cpp per area).
#pragma once

#include "core/parallel.hpp"

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <vector>

namespace glassbox::bindings {

using TargetArray = pybind11::array_t<std::int64_t, pybind11::array::c_style | pybind11::array::forcecast>;

// Per-row target indices from a 1-D integer array, without a Python call per element.
inline std::vector<int> to_targets(const TargetArray& targets) {
    if (targets.ndim() != 1) throw std::invalid_argument("target: expected a 1-D array of ints");
    std::vector<int> out(static_cast<std::size_t>(targets.size()));
    const std::int64_t* data = targets.data();
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (data[i] < 0 || data[i] > std::numeric_limits<int>::max()) {
            throw std::invalid_argument("target: " + std::to_string(data[i]) + " is out of range");
        }
        out[i] = static_cast<int>(data[i]);
    }
    return out;
}

// A read-only attribute of a bound result struct: a numpy view of the struct's Eigen buffer, with
// no copy. The view is writable and its base is the result object, which it keeps alive. With
// `optional`, an empty buffer (a field the method does not compute) reads as None.
template <class Struct, class Matrix>
pybind11::cpp_function matrix_view(Matrix Struct::*field, bool optional = false) {
    return pybind11::cpp_function([field, optional](pybind11::handle self) -> pybind11::object {
        Matrix& matrix = self.cast<Struct&>().*field;
        if (optional && matrix.size() == 0) return pybind11::none();
        return pybind11::cast(matrix, pybind11::return_value_policy::reference_internal, self);
    });
}

// For the duration of one core call (construct it under the GIL, before the
// `gil_scoped_release`, and before anything copies `options`): gives the call a JobControl when
// the caller passed none, and on the main thread routes SIGINT (Ctrl-C) to the job's interrupt
// flag, which the core polls between chunks and turns into Interrupted -> KeyboardInterrupt. The
// previous handler is restored on exit; nested calls each install and restore their own.
class JobScope {
public:
    explicit JobScope(RunOptions& options);
    ~JobScope();
    JobScope(const JobScope&) = delete;
    JobScope& operator=(const JobScope&) = delete;

private:
    JobControl local_;
    JobControl* previous_ = nullptr;
    bool installed_ = false;
    void* saved_handler_ = nullptr;  // the previous struct sigaction (platform type hidden)
};

// The default of every `options=` argument: the core's RunOptions{} (all threads, default budget).
// An array built whole in a binding (reference draws, index tables): each extent a count, and
// the array within the state allowance, so an absurd size is a ValueError naming `what`.
inline void check_array(std::initializer_list<Index> extents, std::size_t item_bytes,
                        const char* what) {
    Index elements = 1;
    for (Index extent : extents) {
        require_count(extent, what, 0);
        elements = mul_count(elements, extent, what);
    }
    require_state_fits(bytes_of(elements, item_bytes), RunOptions{}, what, "the array");
}

inline pybind11::arg_v default_options() {
    return pybind11::arg_v("options", RunOptions{}, "RunOptions()");
}

void bind_run_options(pybind11::module_& m);
void bind_network(pybind11::module_& m);
void bind_gradients(pybind11::module_& m);
void bind_lrp(pybind11::module_& m);
void bind_sampling(pybind11::module_& m);
void bind_deeplift(pybind11::module_& m);
void bind_model_bridge(pybind11::module_& m);
void bind_inspection(pybind11::module_& m);
void bind_shapley(pybind11::module_& m);
void bind_local(pybind11::module_& m);
void bind_inspect(pybind11::module_& m);
void bind_trees(pybind11::module_& m);

}  // namespace glassbox::bindings

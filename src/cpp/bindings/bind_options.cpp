// Binding of RunOptions, the run options (threads, memory budget) every core call takes as
// `options=`.
#include "bindings/bindings.hpp"

#include <string>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

std::size_t checked_budget(std::size_t memory_budget) {
    require(memory_budget >= 1, "memory_budget: must be at least 1 byte");
    return memory_budget;
}

}  // namespace

void bind_run_options(py::module_& m) {
    py::class_<JobControl>(m, "JobControl",
                           "A core call's interrupt flag and progress counters: pass it as "
                           "RunOptions.control, read done / total from another thread while the "
                           "call runs, and interrupt() to stop it between chunks.")
        .def(py::init<>())
        .def_property_readonly("done", [](const JobControl& c) { return c.done.load(); })
        .def_property_readonly("total", [](const JobControl& c) { return c.total.load(); })
        .def_property_readonly("interrupted", [](const JobControl& c) { return c.interrupt.load(); })
        .def("interrupt", [](JobControl& c) { c.interrupt.store(true); })
        .def("__repr__", [](const JobControl& c) {
            return "JobControl(done=" + std::to_string(c.done.load()) +
                   ", total=" + std::to_string(c.total.load()) + ")";
        });
    // Interrupted (a job stopped by Ctrl-C or JobControl.interrupt) -> KeyboardInterrupt.
    py::register_exception_translator([](std::exception_ptr error) {
        try {
            if (error) std::rethrow_exception(error);
        } catch (const Interrupted&) {
            PyErr_SetNone(PyExc_KeyboardInterrupt);
        }
    });
    py::class_<RunOptions>(m, "RunOptions",
                           "How a core call runs: n_threads (<= 0: GLASSBOX_NUM_THREADS, else all "
                           "cores) and memory_budget (bytes one worker's chunk may use).")
        .def(py::init([](int n_threads, std::size_t memory_budget) {
                 return RunOptions{n_threads, checked_budget(memory_budget)};
             }),
             py::arg("n_threads") = 0, py::kw_only(),
             py::arg("memory_budget") = RunOptions{}.memory_budget)
        .def_readwrite("n_threads", &RunOptions::n_threads)
        .def_property(
            "first_row", [](const RunOptions& o) { return o.first_row; },
            [](RunOptions& o, std::int64_t first) {
                require(first >= 0 && first <= (std::int64_t{1} << 53),
                        "first_row: expected an integer between 0 and 2**53, got " +
                            std::to_string(first));
                o.first_row = first;
            },
            "The index of the call's first row in the whole job (keys per-row random streams).")
        .def_property(
            "control",
            py::cpp_function([](const RunOptions& o) { return o.control; },
                             py::return_value_policy::reference),
            py::cpp_function([](RunOptions& o, JobControl* control) { o.control = control; },
                             py::keep_alive<1, 2>()),
            "The JobControl of the call (None: a private one), kept alive by these options.")
        .def_property(
            "memory_budget", [](const RunOptions& o) { return o.memory_budget; },
            [](RunOptions& o, std::size_t budget) { o.memory_budget = checked_budget(budget); })
        .def("__repr__", [](const RunOptions& o) {
            return "RunOptions(n_threads=" + std::to_string(o.n_threads) +
                   ", memory_budget=" + std::to_string(o.memory_budget) + ")";
        });
}

}  // namespace glassbox::bindings

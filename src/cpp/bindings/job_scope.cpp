// JobScope: a core call's interrupt flag, set by Ctrl-C on the main thread (see bindings.hpp).
#include "bindings/bindings.hpp"

#include <atomic>
#include <csignal>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

// The job Ctrl-C stops: read by the signal handler, so an atomic pointer (lock-free).
std::atomic<JobControl*> g_active{nullptr};

extern "C" void on_sigint(int) {
    if (JobControl* job = g_active.load()) job->interrupt.store(true);
}

// Signal handlers are process-wide and Python handles signals on its main thread only; calls
// from other threads (a dask worker, a callable model calling glassbox) leave them alone.
bool on_main_thread() {
    static const auto main_ident =
        py::module_::import("threading").attr("main_thread")().attr("ident").cast<long>();
    return static_cast<long>(PyThread_get_thread_ident()) == main_ident;
}

}  // namespace

JobScope::JobScope(RunOptions& options) {
    if (options.control == nullptr) options.control = &local_;
    if (!on_main_thread()) return;
#ifndef _WIN32
    auto* saved = new struct sigaction();
    struct sigaction handler {};
    handler.sa_handler = on_sigint;
    sigemptyset(&handler.sa_mask);
    if (sigaction(SIGINT, &handler, saved) == 0) {
        saved_handler_ = saved;
        installed_ = true;
        previous_ = g_active.exchange(options.control);
    } else {
        delete saved;
    }
#endif
}

JobScope::~JobScope() {
#ifndef _WIN32
    if (!installed_) return;
    auto* saved = static_cast<struct sigaction*>(saved_handler_);
    g_active.store(previous_);
    sigaction(SIGINT, saved, nullptr);
    delete saved;
#endif
}

}  // namespace glassbox::bindings

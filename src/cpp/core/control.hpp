// Control of long jobs: cooperative interruption (Ctrl-C), progress counters, and exceptions
// carried out of OpenMP regions. Every chunk loop of the core uses these three pieces:
//
//   ParallelErrors errors;
//   #pragma omp parallel for ...
//   for (Index c = 0; c < chunks; ++c) {
//       errors.run([&] {
//           check_interrupt(options);          // throws Interrupted once Ctrl-C was pressed
//           ... the chunk's work ...
//           report_progress(options, rows_in_chunk);
//       });
//   }
//   errors.rethrow();                           // on the calling thread, after the region
//
// No exception may leave an OpenMP region (it would terminate the interpreter); ParallelErrors
// keeps the first one and makes the remaining iterations return at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stdexcept>

namespace glassbox {

// A job stopped because it was interrupted; the bindings raise KeyboardInterrupt for it.
class Interrupted : public std::runtime_error {
public:
    Interrupted() : std::runtime_error("interrupted") {}
};

// Shared by the calling thread (which sets `interrupt` from a signal handler and reads the
// counters from a progress thread) and the workers. Units of `done` / `total` are the method's
// own (rows, points, chunks); only their ratio is shown.
struct JobControl {
    std::atomic<bool> interrupt{false};
    std::atomic<std::int64_t> done{0};
    std::atomic<std::int64_t> total{0};
};

// Collects the first exception thrown by the work of a parallel loop and rethrows it after
// the loop, on the calling thread.
class ParallelErrors {
public:
    // Runs `work` unless an earlier iteration failed; never lets an exception escape.
    template <class Work>
    void run(Work&& work) noexcept {
        if (stopped()) return;
        try {
            work();
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!error_) error_ = std::current_exception();
            failed_.store(true, std::memory_order_relaxed);
        }
    }
    bool stopped() const { return failed_.load(std::memory_order_relaxed); }
    // Rethrows the captured exception, if any (call after the parallel region).
    void rethrow() {
        if (error_) std::rethrow_exception(error_);
    }

private:
    std::atomic<bool> failed_{false};
    std::exception_ptr error_;
    std::mutex mutex_;
};

}  // namespace glassbox

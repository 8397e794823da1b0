#include "core/parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace glassbox {

int max_threads() {
    const int procs = std::max(1, omp_get_num_procs());
    return procs >= kMaxThreadsCeiling / 4 ? kMaxThreadsCeiling : 4 * procs;
}

namespace {

// GLASSBOX_NUM_THREADS as a thread count, 0 when unset or empty.
int environment_threads() {
    const char* env = std::getenv("GLASSBOX_NUM_THREADS");
    if (env == nullptr || *env == '\0') return 0;
    errno = 0;
    char* end = nullptr;
    const long long value = std::strtoll(env, &end, 10);
    while (end && (*end == ' ' || *end == '\t' || *end == '\n')) ++end;
    if (errno != 0 || end == env || *end != '\0' || value < 1 || value > kMaxThreadsCeiling) {
        throw std::invalid_argument("GLASSBOX_NUM_THREADS: expected an integer from 1 to " +
                                    std::to_string(kMaxThreadsCeiling) + ", got '" +
                                    std::string(env) + "'");
    }
    return static_cast<int>(value);
}

}  // namespace

int resolve_threads(int requested) {
    const int wanted = requested > 0 ? requested : environment_threads();
    return std::min(wanted > 0 ? wanted : std::max(1, omp_get_num_procs()), max_threads());
}

void require_count(Index value, const char* name, Index low, Index high) {
    require(value >= low && value <= high, std::string(name) + ": must be between " +
                                               std::to_string(low) + " and " +
                                               std::to_string(high) + ", got " +
                                               std::to_string(value));
}

// Counts are never negative; the arithmetic itself is common.hpp's checked one.
Index mul_count(Index a, Index b, const char* what) {
    require(a >= 0 && b >= 0, std::string(what) + ": a count is negative");
    return checked_mul(a, b, what);
}

Index add_count(Index a, Index b, const char* what) {
    require(a >= 0 && b >= 0, std::string(what) + ": a count is negative");
    return checked_add(a, b, what);
}

std::size_t bytes_of(Index count, std::size_t item_bytes) {
    std::size_t out = 0;
    if (count < 0 || __builtin_mul_overflow(static_cast<std::size_t>(count), item_bytes, &out)) {
        return std::numeric_limits<std::size_t>::max();
    }
    return out;
}

std::string format_bytes(std::size_t bytes) {
    if (bytes == std::numeric_limits<std::size_t>::max()) return "more than 16 EiB";
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 6) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return text;
}

void require_state_fits(std::size_t bytes, const RunOptions& options, const char* argument,
                        const std::string& what) {
    const std::size_t limit = std::max(options.memory_budget, kStateAllowance);
    require(bytes <= limit,
            std::string(argument) + ": " + what + " needs " + format_bytes(bytes) +
                " at once, more than memory_budget allows (" + format_bytes(limit) +
                ": the larger of memory_budget and " + format_bytes(kStateAllowance) +
                " for state that cannot be split into chunks); lower " + argument +
                " or raise memory_budget");
}

Index plan_block_points(std::size_t bytes_per_point, std::size_t memory_budget, Index total_points) {
    // ~2k points keeps a block's activations of a few-hundred-wide layer inside L2/L3 while
    // the GEMMs are still large enough to run near peak.
    constexpr Index kCacheFriendlyPoints = 2048;
    // Aim for at least this many blocks per job so that small jobs still spread over the cores,
    // but never blocks so small that GEMM efficiency collapses.
    constexpr Index kBlocksPerJob = 16;
    constexpr Index kMinimumPoints = 64;
    const std::size_t per_point = std::max<std::size_t>(bytes_per_point, 1);
    // (memory_budget may exceed what an Index holds: cap before converting)
    const Index by_budget = static_cast<Index>(
        std::max<std::size_t>(std::min<std::size_t>(memory_budget / per_point, kCacheFriendlyPoints), 1));
    const Index by_job = std::max(kMinimumPoints, (total_points + kBlocksPerJob - 1) / kBlocksPerJob);
    return std::max<Index>(1, std::min({by_budget, kCacheFriendlyPoints, by_job}));
}

}  // namespace glassbox

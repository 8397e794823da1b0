// glassbox._cpu: which x86-64 instruction-set extensions this CPU and OS support. Built only in
// portable x86-64 builds, for baseline x86-64, so that it runs on any x86-64 CPU: the loader
// (glassbox/_core_loader.py) asks it before importing the fastest glassbox._core_<level> the CPU
// runs. Not part of the core: no Eigen, no OpenMP.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

namespace {

// The features the x86-64 psABI levels v2..v4 require, by libgcc's names. libgcc's answer also
// checks that the OS saves the AVX / AVX-512 registers (XGETBV), so a listed feature is usable.
std::vector<std::string> cpu_features() {
    __builtin_cpu_init();
    std::vector<std::string> found;
    // __builtin_cpu_supports takes a string literal only, hence one line per name.
#define GLASSBOX_FEATURE(name)         \
    if (__builtin_cpu_supports(name)) { \
        found.emplace_back(name);       \
    }
    GLASSBOX_FEATURE("sse3")
    GLASSBOX_FEATURE("ssse3")
    GLASSBOX_FEATURE("sse4.1")
    GLASSBOX_FEATURE("sse4.2")
    GLASSBOX_FEATURE("popcnt")
    GLASSBOX_FEATURE("avx")
    GLASSBOX_FEATURE("avx2")
    GLASSBOX_FEATURE("bmi")
    GLASSBOX_FEATURE("bmi2")
    GLASSBOX_FEATURE("f16c")
    GLASSBOX_FEATURE("fma")
    GLASSBOX_FEATURE("lzcnt")
    GLASSBOX_FEATURE("movbe")
    GLASSBOX_FEATURE("avx512f")
    GLASSBOX_FEATURE("avx512bw")
    GLASSBOX_FEATURE("avx512cd")
    GLASSBOX_FEATURE("avx512dq")
    GLASSBOX_FEATURE("avx512vl")
#undef GLASSBOX_FEATURE
    return found;
}

}  // namespace

PYBIND11_MODULE(_cpu, m) {
    m.doc() = "glassbox CPU feature probe (baseline x86-64; see glassbox/_core_loader.py)";
    m.def("features", &cpu_features,
          "The x86-64 extensions this CPU and OS support (libgcc names: 'avx2', 'fma', ...).");
}

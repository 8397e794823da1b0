// Seeded defects for .ci/sanitize's self-test: built with the sanitizer flags of CMakeLists.txt
// (target glassbox_sanitize_probe, only when GLASSBOX_SANITIZE=ON) and called through ctypes, each
// must end the process with its ASan / UBSan report.
#include <climits>
#include <cstddef>

// size 4: reads one past the end. The size is a run-time value so that UBSan's object-size
// check cannot see the overflow first: ASan itself must report it.
extern "C" int probe_heap_overflow(int size) {
    int* data = new int[static_cast<std::size_t>(size)]();
    const int value = data[size];
    delete[] data;
    return value;
}

extern "C" int probe_signed_overflow(int value) {
    return value + INT_MAX;  // value 1: signed overflow
}

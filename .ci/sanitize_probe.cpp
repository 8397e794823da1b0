// Seeded defects for .ci/sanitize's self-test: built with the sanitizer flags of CMakeLists.txt
// (target glassbox_sanitize_probe, only when GLASSBOX_SANITIZE=ON) and called through ctypes, each
// must end the process with an ASan / UBSan report in the log directory.
#include <climits>

extern "C" int probe_heap_overflow(int index) {
    int* data = new int[4]();
    const int value = data[index];  // index 4: one past the end
    delete[] data;
    return value;
}

extern "C" int probe_signed_overflow(int value) {
    return value + INT_MAX;  // value 1: signed overflow
}

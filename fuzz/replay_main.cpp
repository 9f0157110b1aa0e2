// replay_main.cpp: a stand-in for libFuzzer's main when the compiler has none (g++). Runs the
// harness once per input file; a directory argument means every regular file in it. Prints how many
// inputs ran. A crash, sanitizer report or trap ends the process as it would under libFuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace {
int run_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
        return 1;
    }
    std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Copy into an exactly sized heap buffer so an over-read is visible to ASan, as under libFuzzer.
    std::vector<std::uint8_t> exact(buf.begin(), buf.end());
    LLVMFuzzerTestOneInput(exact.data(), exact.size());
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    std::size_t ran = 0;
    int failures = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (!arg.empty() && arg[0] == '-') continue;  // libFuzzer flags: ignored here
        std::filesystem::path p(arg);
        if (std::filesystem::is_directory(p)) {
            for (const auto& e : std::filesystem::directory_iterator(p)) {
                if (!e.is_regular_file()) continue;
                failures += run_file(e.path());
                ++ran;
            }
        } else {
            failures += run_file(p);
            ++ran;
        }
    }
    std::printf("replay: %zu inputs, %d unreadable\n", ran, failures);
    return failures == 0 ? 0 : 1;
}

// session-selftest: runs the offline checks of the whole crypto stack and prints one line each:
//   ok    mnemonic round trip (200 seeds)
//   FAIL  onion fixed-IV known answer (aes-gcm): wire differs at byte 12
// Exit 0 only if every check passes (1 otherwise, 2 for a bad command line). Never uses the network.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "checks.hpp"

int main(int argc, char** argv) {
    bool list_only = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--list") == 0) {
            list_only = true;
        } else if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
            std::puts("usage: session-selftest [--list]\n"
                      "Runs offline known-answer and round-trip checks of session-client (mnemonic, keys,\n"
                      "hashes, envelope, onion) and prints \"ok\" or \"FAIL\" for each.\n"
                      "Exit codes: 0 all passed, 1 a check failed, 2 usage error.");
            return 0;
        } else {
            std::fprintf(stderr, "session-selftest: unknown argument %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    const auto checks = session::selftest::all_checks();
    if (list_only) {
        for (const auto& c : checks) std::puts(c.name.c_str());
        return 0;
    }
    std::size_t failed = 0;
    for (const auto& c : checks) {
        session::selftest::Outcome outcome;
        try {
            outcome = c.run();
        } catch (const std::exception& e) {
            outcome = std::string("threw: ") + e.what();
        }
        if (outcome) {
            ++failed;
            std::printf("FAIL  %s: %s\n", c.name.c_str(), outcome->c_str());
        } else {
            std::printf("ok    %s\n", c.name.c_str());
        }
        std::fflush(stdout);
    }
    std::printf("%zu of %zu checks passed\n", checks.size() - failed, checks.size());
    return failed == 0 ? 0 : 1;
}

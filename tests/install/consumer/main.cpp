// Consumer of an installed session-client: uses only installed headers and the library.
// Prints the base64 and hex of a fixed string (bytes.hpp), then the Session ID of a known phrase
// (mnemonic.json vector mnemonic_to_session_id_1), so the packaging test can compare the output.
#include <cstdio>
#include <session/bytes.hpp>
#include <session/keys.hpp>

int main() {
    const auto data = session::to_bytes("session");
    std::printf("%s %s\n", session::to_hex(data).c_str(), session::base64_encode(data).c_str());
    auto id = session::Identity::from_phrase(
        "session session session session session session session session session session session session session");
    if (!id) {
        std::fprintf(stderr, "consumer: %s\n", id.error().message.c_str());
        return 1;
    }
    std::printf("%s\n", id->session_id().hex().c_str());
    return 0;
}

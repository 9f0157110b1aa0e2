// Consumer of an installed session-client: uses only installed headers and the library.
// Prints the base64 and hex of a fixed string (bytes.hpp), then the Session ID of a known phrase
// (mnemonic.json vector mnemonic_to_session_id_1), so the packaging test can compare the output.
// Last, it opens a store (store.hpp) in a temporary directory: a static library then needs SQLite on
// the consumer's link line, which the CMake package and the .pc file must provide.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <session/bytes.hpp>
#include <session/keys.hpp>
#include <session/store.hpp>
#include <string>

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

    std::string dir = (std::filesystem::temp_directory_path() / "session-consumer-XXXXXX").string();
    if (!::mkdtemp(dir.data())) return 1;
    int status = 0;
    {
        auto store = session::store::Store::open(dir + "/store.db", id->session_id());
        if (!store) {
            std::fprintf(stderr, "consumer: %s\n", store.error().message.c_str());
            status = 1;
        } else if (auto v = store->schema_version(); !v || *v != session::store::kSchemaVersion) {
            std::fprintf(stderr, "consumer: unexpected store schema version\n");
            status = 1;
        } else {
            std::printf("store ok\n");
        }
    }
    std::filesystem::remove_all(dir);
    return status;
}

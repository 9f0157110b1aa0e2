// identity_verbs.cpp: `session-cli new` and `session-cli id` (offline).
#include <string>

#include "cli.hpp"
#include "session/keys.hpp"
#include "session/rng.hpp"

namespace session::cli {

int cmd_id(const Args& args) {
    auto identity = load_identity(args, StdinUse::free);
    if (!identity) {
        report(identity.error().message);
        return identity.error().exit_code;
    }
    const std::string id = identity->session_id().hex();
    if (args.format == Format::json) emit("{\"session_id\":\"" + id + "\"}");
    else emit(id);
    return kOk;
}

int cmd_new(const Args& args) {
    auto [identity, phrase] = Identity::generate(*system_rng());
    const std::string id = identity.session_id().hex();
    // The phrase goes straight from its wiping buffer to stdout: it never sits in a std::string.
    // Its words are lower-case ASCII letters, so it needs no JSON escaping.
    const auto words = phrase.view();
    if (args.format == Format::json) {
        std::fputs("{\"phrase\":\"", stdout);
        std::fwrite(words.data(), 1, words.size(), stdout);
        std::fputs("\",\"session_id\":\"", stdout);
        std::fputs(id.c_str(), stdout);
        std::fputs("\"}\n", stdout);
    } else {
        std::fwrite(words.data(), 1, words.size(), stdout);
        std::fputc('\n', stdout);
        std::fputs(id.c_str(), stdout);
        std::fputc('\n', stdout);
    }
    std::fflush(stdout);
    report("keep the recovery phrase secret: anyone who has it can read and send your messages");
    return kOk;
}

}  // namespace session::cli

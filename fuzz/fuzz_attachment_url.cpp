// fuzz_attachment_url.cpp: attachment::parse_download_url on any text (a sender writes the URL of
// every AttachmentPointer). An accepted URL must have a valid scheme, port and id, and
// download_url(base_url(), id, p, d) must parse back to the same server, id, key and flag; a
// refused one must say attachment_bad_url. Seeds: fuzz/corpus/attachment_url/.
// fuzz-requires: attachment
#include <algorithm>

#include "fuzz_common.hpp"
#include "session/attachment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace att = session::attachment;
    const auto text = fuzz::as_text(data, size);
    auto u = att::parse_download_url(text);
    if (!u) {
        FUZZ_CHECK(fuzz::error_in(u.error(), {session::Errc::attachment_bad_url}), "parse_download_url: undocumented error");
        return 0;
    }
    FUZZ_CHECK(u->scheme == "http" || u->scheme == "https", "accepted a scheme other than http(s)");
    FUZZ_CHECK(u->port != 0, "accepted port 0");
    FUZZ_CHECK(!u->file_id.empty() && u->file_id.size() <= 64 &&
                   std::all_of(u->file_id.begin(), u->file_id.end(),
                               [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }),
               "accepted a file id outside [A-Za-z0-9_-]{1,64}");
    const std::string again = att::download_url(u->base_url(), u->file_id, u->server_pubkey, u->deterministic);
    auto v = att::parse_download_url(again);
    FUZZ_CHECK(v.has_value(), "download_url(parse(x)) does not parse");
    FUZZ_CHECK(v->scheme == u->scheme && v->host == u->host && v->port == u->port && v->file_id == u->file_id &&
                   v->server_pubkey == u->server_pubkey && v->deterministic == u->deterministic,
               "download_url(parse(x)) changes the server, id, key or flag");
    return 0;
}

// make_seeds.cpp: writes the real-protocol seed inputs of fuzz/corpus/ (onion entry bodies and
// layers, onion replies, bencoded v4 messages, sealed messages) using the library itself with fixed
// keys and a deterministic Rng, so the corpus can be regenerated after a format change:
//   cmake --build build-fuzz --target fuzz-make-seeds && build-fuzz/fuzz/fuzz-make-seeds fuzz/corpus
// Seeds that need no crypto (phrases, Content protobufs, JSON bodies) are written by hand.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "detail/bencode.hpp"
#include "fuzz_common.hpp"
#include "detail/onion_node.hpp"
#include "session/envelope.hpp"
#include "session/keys.hpp"
#include "session/onion.hpp"

namespace {
namespace fs = std::filesystem;
namespace onion = session::onion;
using session::Bytes;
using session::ByteView;

fs::path g_root;
int g_written = 0;

template <class R>
auto must(R&& r, const char* what) {
    if (!r) {
        std::fprintf(stderr, "make_seeds: %s: %s\n", what, r.error().message.c_str());
        std::exit(1);
    }
    return std::move(*r);
}

void write(const std::string& dir, const std::string& name, ByteView bytes, int mode = -1) {
    fs::create_directories(g_root / dir);
    std::ofstream out(g_root / dir / name, std::ios::binary | std::ios::trunc);
    if (mode >= 0) out.put(static_cast<char>(mode));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ++g_written;
}
void write(const std::string& dir, const std::string& name, std::string_view text, int mode = -1) {
    write(dir, name, session::as_bytes(text), mode);
}

session::Secret<32> fixed_secret(std::uint8_t salt) {
    std::array<std::uint8_t, 32> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(salt + 7 * i);
    return session::Secret<32>(std::span<const std::uint8_t, 32>(b));
}

struct Node {
    session::Identity id;
    onion::NodeKeys keys;
};
Node node(std::uint8_t salt) {
    std::array<std::uint8_t, 16> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(salt ^ (i * 29));
    auto id = session::Identity::from_seed(session::mnemonic::Seed(std::span<const std::uint8_t, 16>(b)));
    onion::NodeKeys k{id.ed25519_public(), id.x25519_public()};
    return {std::move(id), k};
}

session::Identity identity(std::uint8_t salt) {  // same derivation as fuzz_envelope_open.cpp
    std::array<std::uint8_t, 16> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(salt ^ (i * 13));
    return session::Identity::from_seed(session::mnemonic::Seed(std::span<const std::uint8_t, 16>(b)));
}

// Peels every layer of `body` along `path`, writing each decrypted layer as an onion_layer seed.
void peel_all(const std::string& tag, ByteView body, const std::vector<Node>& path, const Node* dest) {
    auto entry = must(onion::parse_entry(body), "parse_entry");
    Bytes ct(entry.ciphertext.begin(), entry.ciphertext.end());
    auto key = entry.info.ephemeral_key;
    auto et = entry.info.enc_type;
    for (std::size_t hop = 0; hop <= path.size(); ++hop) {
        const session::Identity& who = hop < path.size() ? path[hop].id : dest->id;
        if (hop == path.size() && !dest) return;
        auto peeled = must(onion::decrypt_layer(et, who.x25519_secret(), who.x25519_public(), key, ct), "decrypt_layer");
        write("onion_layer", tag + "_layer" + std::to_string(hop), peeled.plaintext);
        auto layer = onion::classify_layer(peeled.plaintext);
        if (!layer) return;  // the server destination's plaintext is a v4 request, not a layer
        auto* relay = std::get_if<onion::RelayToNode>(&*layer);
        if (!relay) return;
        ct = relay->ciphertext;
        key = relay->ephemeral_key;
        et = relay->enc_type;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <fuzz/corpus>\n", argv[0]);
        return 2;
    }
    g_root = argv[1];
    fuzz::FuzzRng rng(7);
    std::vector<Node> path;
    for (std::uint8_t i = 1; i <= 3; ++i) path.push_back(node(i));
    std::vector<onion::NodeKeys> path_keys;
    for (const auto& n : path) path_keys.push_back(n.keys);
    Node dest = node(4);
    const std::string rpc = R"({"method":"retrieve","params":{"pubkey":"05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72","namespace":0,"last_hash":""}})";

    // ---- onion requests: entry bodies and every layer ----
    for (auto t : {onion::EncType::xchacha20, onion::EncType::aes_gcm}) {
        const std::string et = std::string(onion::to_string(t));
        auto req = must(onion::build(path_keys, onion::SnodeDestination{dest.keys}, session::as_bytes(rpc), t, rng), "build");
        write("onion_layer", "entry_snode_" + et, req.body);
        peel_all("snode_" + et, req.body, path, &dest);

        onion::ServerDestination server;
        server.host = "filev2.getsession.org";
        server.x25519 = dest.keys.x25519;
        auto v4 = must(onion::v4_request("GET", "/file/12345", {{"Accept", "*/*"}}, std::nullopt), "v4_request");
        auto sreq = must(onion::build(path_keys, server, v4, t, rng), "build server");
        write("onion_layer", "entry_server_" + et, sreq.body);
        peel_all("server_" + et, sreq.body, path, &dest);
    }
    // v4 requests and responses (onion_layer parses v4 requests too; bencode takes all of them).
    auto v4_get = must(onion::v4_request("GET", "/session_version?platform=desktop", {}, std::nullopt), "v4");
    const std::string json_body = R"({"a":1})";
    auto v4_post = must(onion::v4_request("POST", "/room/sudoku/message", {{"X-SOGS-Pubkey", "00aa"}},
                                          session::as_bytes(json_body)), "v4 post");
    write("onion_layer", "v4_get", v4_get);
    write("onion_layer", "v4_post", v4_post);
    write("bencode", "v4_get", v4_get);
    write("bencode", "v4_post", v4_post);
    const std::string file_body = "binary\x00\x01\x02 file";
    const Bytes resp_ok = onion::v4_response(200, {{"Content-Type", "application/octet-stream"}}, session::as_bytes(file_body));
    const Bytes resp_err = onion::v4_response(404, {}, {});
    write("bencode", "v4_response_200", resp_ok);
    write("bencode", "v4_response_404", resp_err);
    namespace bt = session::detail::bencode;
    write("bencode", "nested_dict", bt::encode(bt::Value(bt::Dict{
        {"a", bt::Value(bt::List{bt::Value(std::int64_t{-42}), bt::Value("x"), bt::Value(bt::Dict{})})},
        {"b", bt::Value(std::int64_t{9223372036854775807LL})},
        {"c", bt::Value(bt::List{})}})));
    write("bencode", "integer_min", "i-9223372036854775808e");
    write("bencode", "empty_string", "0:");

    // ---- onion replies (fuzz_onion_response: mode byte + data) ----
    {
        const onion::ResponseKey key{onion::EncType::xchacha20, fixed_secret(0x11), fixed_secret(0x22)};
        const std::string node_reply = R"({"status":200,"body":"{\"messages\":[],\"more\":false,\"t\":1764286000000}"})";
        write("onion_response", "m1_node_reply", node_reply, 1);
        write("onion_response", "m2_node_reply_421", R"({"status_code":421,"body":"{\"snodes\":[]}"})", 2);
        write("onion_response", "m3_gcm_fallback", R"({"status":200,"body":"ok"})", 3);
        write("onion_response", "m1_no_body", R"({"status":200,"hf":[19,4,0],"t":1764286000000})", 1);
        write("onion_response", "m5_v4_200", resp_ok, 5);
        write("onion_response", "m5_v4_404", resp_err, 5);
        auto enc = must(onion::encrypt(onion::EncType::xchacha20, key.key(), session::as_bytes(node_reply), rng), "enc");
        write("onion_response", "m0_base64_reply", session::base64_encode(enc), 0);
        write("onion_response", "m0_result_wrapped", "{\"result\":\"" + session::base64_encode(enc) + "\"}", 0);
        auto enc4 = must(onion::encrypt(onion::EncType::xchacha20, key.key(), resp_ok, rng), "enc4");
        write("onion_response", "m4_v4_wire", enc4, 4);
    }

    // ---- sealed messages (fuzz_envelope_open: mode byte + data) ----
    {
        const auto self = identity(0x51);
        const auto sender = identity(0xa7);
        session::envelope::OutgoingMessage m;
        m.body = "hello from the fuzz corpus";
        m.timestamp_ms = 1764286000000;
        m.display_name = "Fuzzer";
        m.expiration_type = session::ExpirationType::delete_after_read;
        m.expiration_timer = std::chrono::seconds(86400);
        auto sealed = must(session::envelope::seal(sender, self.session_id(), m), "seal");
        write("envelope_open", "m0_sealed_text", sealed, 0);
        const auto content = session::envelope::build_content(m);
        write("envelope_open", "m1_padded_content", session::envelope::pad(content.encode()), 1);
        write("envelope_open", "m1_unpadded_content", content.encode(), 1);
        write("envelope_open", "m1_legacy_padding",
              session::envelope::pad(content.encode(), session::envelope::PaddingRule::legacy), 1);
        // Mode 2: a well-formed inner plaintext M || A || SIG (valid signature for us).
        Bytes inner = session::envelope::pad(content.encode());
        Bytes signed_part = inner;
        signed_part.insert(signed_part.end(), sender.ed25519_public().bytes.begin(), sender.ed25519_public().bytes.end());
        Bytes to_sign = signed_part;
        to_sign.insert(to_sign.end(), self.x25519_public().bytes.begin(), self.x25519_public().bytes.end());
        auto sig = sender.sign(to_sign);
        signed_part.insert(signed_part.end(), sig.begin(), sig.end());
        write("envelope_open", "m2_inner_plaintext", signed_part, 2);
        // Mode 3: the Envelope inside the sealed message.
        auto ws = must(session::proto::WebSocketMessage::decode(sealed), "ws decode");
        write("envelope_open", "m3_envelope", *ws.request->body, 3);
        write("proto_envelope", "sealed_1o1", *ws.request->body);
        write("proto_websocket", "sealed_1o1", sealed);
        write("proto_content", "outgoing_text", content.encode());
    }
    std::printf("make_seeds: wrote %d files under %s\n", g_written, g_root.c_str());
    return 0;
}

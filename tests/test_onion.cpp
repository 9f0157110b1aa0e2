#include "session/onion.hpp"

#include <catch2/catch.hpp>

#include <cstdio>

#include "detail/onion_node.hpp"
#include "detail/onion_wire.hpp"
#include <nlohmann/json.hpp>

#include "support/vectors.hpp"

using namespace session;
using namespace session::onion;
using nlohmann::json;

namespace {

const char* const kHopFile = "onion_hop_encryption.json";
const char* const kParseFile = "onion_request_parsing.json";

Secret<32> secret32(const Bytes& b) {
    REQUIRE(b.size() == 32);
    return Secret<32>(std::span<const std::uint8_t, 32>(b.data(), 32));
}

template <class K>
K key32(const Bytes& b) {
    REQUIRE(b.size() == 32);
    K k;
    std::copy(b.begin(), b.end(), k.bytes.begin());
    return k;
}

Bytes reveal(const Secret<32>& s) { return Bytes(s.reveal().begin(), s.reveal().end()); }

std::string str(ByteView b) { return std::string(b.begin(), b.end()); }

EncType enc(const json& v, const char* field) { return parse_enc_type(v.at(field).get<std::string>()).value(); }

// A simulated service node: its Ed25519 key is only a name here; X25519 does the crypto.
struct TestNode {
    X25519KeyPair x;
    Ed25519PublicKey ed;
    NodeKeys keys() const { return {ed, x.public_key}; }
};

TestNode make_node(Rng& rng) {
    TestNode n{generate_x25519(rng), {}};
    rng.fill(n.ed.bytes);
    return n;
}

std::vector<TestNode> make_nodes(std::size_t n, Rng& rng) {
    std::vector<TestNode> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(make_node(rng));
    return out;
}

std::vector<NodeKeys> keys_of(const std::vector<TestNode>& nodes, std::size_t count) {
    std::vector<NodeKeys> out;
    for (std::size_t i = 0; i < count; ++i) out.push_back(nodes[i].keys());
    return out;
}

// The sorted key names of a trailer's JSON object.
std::vector<std::string> trailer_keys(ByteView plaintext_or_body) {
    auto c = parse_combined(plaintext_or_body).value();
    auto j = json::parse(c.trailer);
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    return keys;
}

// A client's response key and the destination's matching key (XChaCha20, the AES-GCM fallback
// beside it), for replies a test encrypts itself.
struct ReplyKeys {
    std::shared_ptr<Rng> rng = system_rng();
    X25519KeyPair client = generate_x25519(*rng);
    X25519KeyPair node = generate_x25519(*rng);
    ResponseKey rk{EncType::xchacha20,
                   client_key(EncType::xchacha20, client.secret, client.public_key, node.public_key).value(),
                   client_key(EncType::aes_gcm, client.secret, client.public_key, node.public_key).value()};
    Secret<32> sk = server_key(EncType::xchacha20, node.secret, node.public_key, client.public_key).value();

    Bytes seal(std::string_view text) { return encrypt(EncType::xchacha20, sk, as_bytes(text), *rng).value(); }
};

}  // namespace

// ---- enc types ---------------------------------------------------------------------------------

TEST_CASE("onion: enc_type spellings and aliases", "[onion]") {
    CHECK(to_string(EncType::aes_gcm) == "aes-gcm");
    CHECK(to_string(EncType::xchacha20) == "xchacha20");
    CHECK(parse_enc_type("aes-gcm").value() == EncType::aes_gcm);
    CHECK(parse_enc_type("gcm").value() == EncType::aes_gcm);
    CHECK(parse_enc_type("xchacha20").value() == EncType::xchacha20);
    CHECK(parse_enc_type("xchacha20-poly1305").value() == EncType::xchacha20);
    for (const char* bad : {"aes-cbc", "cbc", "AES-GCM", "", "xchacha", "aes-gcm "}) {
        auto r = parse_enc_type(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::onion_bad_enc_type);
    }
    CHECK(overhead(EncType::aes_gcm) == 28);
    CHECK(overhead(EncType::xchacha20) == 40);
}

// ---- known-answer vectors ------------------------------------------------------------------------

TEST_CASE("onion: hop encryption vectors", "[onion][kat]") {
    for (const auto& v : test::vectors(kHopFile)) {
        const std::string name = v.at("name");
        DYNAMIC_SECTION(name) {
            if (name.starts_with("x25519_pubkey_")) {
                auto pk = x25519_public_key(secret32(test::hex(v, "seckey_hex")));
                CHECK(to_hex(pk.view()) == v.at("expected_pubkey_hex"));
            } else if (name == "shared_secret_alice_bob") {
                auto ab = shared_secret(secret32(test::hex(v, "alice_seckey_hex")),
                                        key32<X25519PublicKey>(test::hex(v, "bob_pubkey_hex")));
                auto ba = shared_secret(secret32(test::hex(v, "bob_seckey_hex")),
                                        key32<X25519PublicKey>(test::hex(v, "alice_pubkey_hex")));
                REQUIRE(ab);
                REQUIRE(ba);
                CHECK(reveal(*ab) == test::hex(v, "expected_shared_secret_hex"));
                CHECK(reveal(*ba) == test::hex(v, "expected_shared_secret_hex"));
            } else if (name == "aesgcm_key_alice_bob") {
                CHECK(str(test::hex(v, "hmac_key_hex")) == "LOKI");
                // The aes-gcm key does not depend on the public keys.
                auto k = derive_key(EncType::aes_gcm, secret32(test::hex(v, "shared_secret_hex")), {}, {});
                CHECK(reveal(k) == test::hex(v, "expected_key_hex"));
            } else if (name.starts_with("xchacha20_key_")) {
                auto k = derive_key(EncType::xchacha20, secret32(test::hex(v, "shared_secret_hex")),
                                    key32<X25519PublicKey>(test::hex(v, "client_pubkey_hex")),
                                    key32<X25519PublicKey>(test::hex(v, "server_pubkey_hex")));
                CHECK(reveal(k) == test::hex(v, "expected_key_hex"));
            } else if (name == "aesgcm_encrypt_fixed_iv" || name == "xchacha20_encrypt_fixed_nonce") {
                const EncType t = name.starts_with("aesgcm") ? EncType::aes_gcm : EncType::xchacha20;
                const auto client_sk = secret32(test::hex(v, "client_seckey_hex"));
                const auto client_pk = key32<X25519PublicKey>(test::hex(v, "client_pubkey_hex"));
                const auto server_sk = secret32(test::hex(v, "server_seckey_hex"));
                const auto server_pk = key32<X25519PublicKey>(test::hex(v, "server_pubkey_hex"));
                CHECK(x25519_public_key(client_sk) == client_pk);
                auto key = client_key(t, client_sk, client_pk, server_pk);
                REQUIRE(key);
                CHECK(reveal(*key) == test::hex(v, "key_hex"));
                const Bytes nonce = test::hex(v, t == EncType::aes_gcm ? "iv_hex" : "nonce_hex");
                auto wire = encrypt_with_nonce(t, *key, nonce, test::hex(v, "plaintext_hex"));
                REQUIRE(wire);
                CHECK(*wire == test::hex(v, "expected_wire_hex"));
                CHECK(wire->size() == v.at("expected_wire_len").get<std::size_t>());
                auto peeled = decrypt_layer(t, server_sk, server_pk, client_pk, *wire);
                REQUIRE(peeled);
                CHECK(peeled->plaintext == test::hex(v, "plaintext_hex"));
                CHECK(reveal(peeled->reply_key) == test::hex(v, "key_hex"));
                // A nonce of the other type's size is a caller bug.
                auto wrong = encrypt_with_nonce(t, *key, Bytes(nonce.size() + 1), test::hex(v, "plaintext_hex"));
                REQUIRE_FALSE(wrong);
                CHECK(wrong.error().code == Errc::invalid_argument);
            } else if (name.starts_with("onionreq_server_decrypt_")) {
                const EncType t = enc(v, "enc_type");
                const auto server_sk = secret32(test::hex(v, "server_seckey_hex"));
                const auto server_pk = key32<X25519PublicKey>(test::hex(v, "server_pubkey_hex"));
                const auto client_pk = key32<X25519PublicKey>(test::hex(v, "client_pubkey_hex"));
                CHECK(reveal(shared_secret(server_sk, client_pk).value()) ==
                      test::hex(v, "expected_shared_secret_hex"));
                CHECK(reveal(server_key(t, server_sk, server_pk, client_pk).value()) == test::hex(v, "expected_key_hex"));
                // The client side derives the same key from its secret.
                CHECK(reveal(client_key(t, secret32(test::hex(v, "client_seckey_hex")), client_pk, server_pk).value()) ==
                      test::hex(v, "expected_key_hex"));
                auto peeled = decrypt_layer(t, server_sk, server_pk, client_pk, test::hex(v, "ciphertext_hex"));
                REQUIRE(peeled);
                CHECK(peeled->plaintext == test::hex(v, "expected_plaintext_hex"));
                CHECK(str(peeled->plaintext) == v.at("expected_plaintext_utf8"));
            } else if (name.starts_with("onionreq_broken_")) {
                const auto server_sk = secret32(test::hex(v, "server_seckey_hex"));
                const auto server_pk = key32<X25519PublicKey>(test::hex(v, "server_pubkey_hex"));
                const auto client_pk = key32<X25519PublicKey>(test::hex(v, "client_pubkey_hex"));
                const auto& types = v.at("expected_error_for_enc_types");
                REQUIRE_FALSE(types.empty());
                for (const auto& t : types) {
                    auto peeled = decrypt_layer(parse_enc_type(t.get<std::string>()).value(), server_sk, server_pk,
                                                client_pk, test::hex(v, "ciphertext_hex"));
                    REQUIRE_FALSE(peeled);
                    CHECK(peeled.error().code == Errc::onion_decrypt_failed);
                }
            } else if (name.starts_with("onionreq_parser_")) {
                const auto server_sk = secret32(test::hex(v, "server_seckey_hex"));
                const auto server_pk = key32<X25519PublicKey>(test::hex(v, "server_pubkey_hex"));
                const Bytes payload = test::hex(v, "payload_hex");
                auto combined = parse_combined(payload);
                REQUIRE(combined);
                CHECK(combined->blob.size() == v.at("expected_ciphertext_len").get<std::size_t>());
                CHECK(Bytes(combined->blob.begin(), combined->blob.end()) == test::hex(v, "expected_ciphertext_hex"));
                CHECK(combined->trailer == v.at("expected_trailer_json").get<std::string>());
                auto entry = parse_entry(payload);
                REQUIRE(entry);
                CHECK(entry->info.enc_type == enc(v, "expected_enc_type"));
                CHECK(to_hex(entry->info.ephemeral_key.view()) == v.at("expected_remote_pubkey_hex"));
                CHECK(entry->info.hop_no == 0);
                auto peeled =
                    decrypt_layer(entry->info.enc_type, server_sk, server_pk, entry->info.ephemeral_key, entry->ciphertext);
                REQUIRE(peeled);
                CHECK(peeled->plaintext == test::hex(v, "expected_plaintext_hex"));
                // Reply, then the client decrypts it with its own ephemeral secret.
                const std::string reply_text = v.at("reply_plaintext_utf8");
                auto reply = encrypt_reply(entry->info.enc_type, peeled->reply_key, as_bytes(reply_text), *system_rng());
                REQUIRE(reply);
                CHECK(reply->size() == v.at("expected_reply_len").get<std::size_t>());
                const auto client_sk = secret32(test::hex(v, "client_seckey_hex"));
                const auto client_pk = x25519_public_key(client_sk);
                CHECK(client_pk == entry->info.ephemeral_key);
                auto ck = client_key(entry->info.enc_type, client_sk, client_pk, server_pk);
                REQUIRE(ck);
                auto back = decrypt(entry->info.enc_type, *ck, *reply);
                REQUIRE(back);
                CHECK(str(*back) == reply_text);
            } else {
                FAIL("unhandled vector " << name);
            }
        }
    }
}

TEST_CASE("onion: layer classification vectors", "[onion][kat]") {
    for (const auto& v : test::vectors(kParseFile)) {
        const std::string name = v.at("name");
        DYNAMIC_SECTION(name) {
            if (v.contains("target")) {
                CHECK(url_target_allowed(v.at("target").get<std::string>()) == v.at("expected_allowed").get<bool>());
                continue;
            }
            auto layer = classify_layer(test::hex(v, "plaintext_hex"));
            REQUIRE(layer);
            const std::string kind = v.at("expected_kind");
            if (kind == "final_destination") {
                auto* fd = std::get_if<FinalDestination>(&*layer);
                REQUIRE(fd);
                CHECK(fd->body == test::hex(v, "expected_body_hex"));
                CHECK(fd->json == v.at("expected_json").get<bool>());
                CHECK(fd->base64 == v.at("expected_base64").get<bool>());
            } else if (kind == "relay_to_server") {
                auto* rs = std::get_if<RelayToServer>(&*layer);
                REQUIRE(rs);
                CHECK(rs->payload == test::hex(v, "expected_payload_hex"));
                CHECK(rs->host == v.at("expected_host"));
                CHECK(rs->port == v.at("expected_port").get<int>());
                CHECK(rs->protocol == v.at("expected_protocol"));
                CHECK(rs->target == v.at("expected_target"));
            } else if (kind == "relay_to_node") {
                auto* rn = std::get_if<RelayToNode>(&*layer);
                REQUIRE(rn);
                CHECK(rn->ciphertext == test::hex(v, "expected_ciphertext_hex"));
                CHECK(to_hex(rn->ephemeral_key.view()) == v.at("expected_ephemeral_key_hex"));
                CHECK(to_hex(rn->destination.view()) == v.at("expected_destination_hex"));
                CHECK(rn->enc_type == enc(v, "expected_enc_type"));
            } else {
                FAIL("unhandled kind " << kind);
            }
        }
    }
}

// ---- client build → server peel ------------------------------------------------------------------

TEST_CASE("onion: build to a snode peels hop by hop for both enc types and path lengths 1..4", "[onion]") {
    auto rng = system_rng();
    for (EncType t : {EncType::aes_gcm, EncType::xchacha20}) {
        for (std::size_t hops = 1; hops <= 4; ++hops) {
            DYNAMIC_SECTION(to_string(t) << " with " << hops << " path nodes") {
                auto nodes = make_nodes(hops + 1, *rng);
                const auto path = keys_of(nodes, hops);
                const TestNode& dest = nodes[hops];
                const std::string rpc = R"({"method":"info","params":{}})";
                auto req = build(path, SnodeDestination{dest.keys()}, as_bytes(rpc), t, *rng);
                REQUIRE(req);
                CHECK(req->response_key.enc_type() == t);

                // The guard's envelope names only the key and enc type.
                CHECK(trailer_keys(req->body) == std::vector<std::string>{"enc_type", "ephemeral_key"});
                auto entry = parse_entry(req->body);
                REQUIRE(entry);
                CHECK(entry->info.enc_type == t);

                Bytes ct(entry->ciphertext.begin(), entry->ciphertext.end());
                X25519PublicKey eph = entry->info.ephemeral_key;
                EncType layer_t = entry->info.enc_type;
                std::vector<X25519PublicKey> seen_ephemeral{eph};
                for (std::size_t i = 0; i < hops; ++i) {
                    INFO("hop " << i);
                    auto peeled = decrypt_layer(layer_t, nodes[i].x.secret, nodes[i].x.public_key, eph, ct);
                    REQUIRE(peeled);
                    CHECK(trailer_keys(peeled->plaintext) ==
                          std::vector<std::string>{"destination", "enc_type", "ephemeral_key"});
                    auto layer = classify_layer(peeled->plaintext);
                    REQUIRE(layer);
                    auto* relay = std::get_if<RelayToNode>(&*layer);
                    REQUIRE(relay);
                    CHECK(relay->destination == nodes[i + 1].ed);
                    CHECK(relay->enc_type == t);
                    // Every layer has its own ephemeral key.
                    CHECK(std::find(seen_ephemeral.begin(), seen_ephemeral.end(), relay->ephemeral_key) ==
                          seen_ephemeral.end());
                    seen_ephemeral.push_back(relay->ephemeral_key);
                    // Another node's key cannot open this layer.
                    auto wrong = decrypt_layer(layer_t, nodes[hops].x.secret, nodes[hops].x.public_key, eph, ct);
                    REQUIRE_FALSE(wrong);
                    CHECK(wrong.error().code == Errc::onion_decrypt_failed);
                    ct = relay->ciphertext;
                    eph = relay->ephemeral_key;
                    layer_t = relay->enc_type;
                }

                auto final_layer = decrypt_layer(layer_t, dest.x.secret, dest.x.public_key, eph, ct);
                REQUIRE(final_layer);
                auto c = parse_combined(final_layer->plaintext).value();
                CHECK(c.trailer == R"({"body":null,"headers":{}})");  // desktop's exact control JSON
                auto layer = classify_layer(final_layer->plaintext);
                REQUIRE(layer);
                auto* fd = std::get_if<FinalDestination>(&*layer);
                REQUIRE(fd);
                CHECK(str(fd->body) == rpc);
                CHECK_FALSE(fd->json);
                CHECK(fd->base64);

                // Reply as the storage server does, decode as the client.
                const std::string result = R"({"hf":[19,3],"version":[2,8,0]})";
                auto wrapped = wrap_node_response(layer_t, final_layer->reply_key, 200, result, true, *fd, *rng);
                REQUIRE(wrapped);
                auto resp = decode_node_response(req->response_key, str(*wrapped));
                REQUIRE(resp);
                CHECK(resp->status == 200);
                CHECK(resp->body == result);
                // The {"result": b64} wrapping decodes the same.
                auto resp2 = decode_node_response(req->response_key, json{{"result", str(*wrapped)}}.dump());
                REQUIRE(resp2);
                CHECK(resp2->body == result);
            }
        }
    }
}

TEST_CASE("onion: build to a server relays the v4 request and decodes the v4 reply", "[onion]") {
    auto rng = system_rng();
    for (EncType t : {EncType::aes_gcm, EncType::xchacha20}) {
        for (std::size_t hops = 1; hops <= 3; ++hops) {
            DYNAMIC_SECTION(to_string(t) << " with " << hops << " path nodes") {
                auto nodes = make_nodes(hops, *rng);
                const auto path = keys_of(nodes, hops);
                const X25519KeyPair server = generate_x25519(*rng);
                ServerDestination dest;
                dest.host = "127.0.0.1";
                dest.protocol = "http";
                dest.port = 8080;
                dest.x25519 = server.public_key;
                const std::string upload = "file contents \x01\x02";
                auto v4 = v4_request("POST", "/file", {{"User-Agent", "x"}, {"X-Thing", "1"}}, as_bytes(upload));
                REQUIRE(v4);
                auto req = build(path, dest, *v4, t, *rng);
                REQUIRE(req);

                auto entry = parse_entry(req->body).value();
                Bytes ct(entry.ciphertext.begin(), entry.ciphertext.end());
                X25519PublicKey eph = entry.info.ephemeral_key;
                for (std::size_t i = 0; i + 1 < hops; ++i) {
                    auto peeled = decrypt_layer(t, nodes[i].x.secret, nodes[i].x.public_key, eph, ct).value();
                    auto relay = std::get<RelayToNode>(classify_layer(peeled.plaintext).value());
                    CHECK(relay.destination == nodes[i + 1].ed);
                    ct = relay.ciphertext;
                    eph = relay.ephemeral_key;
                }
                auto last = decrypt_layer(t, nodes[hops - 1].x.secret, nodes[hops - 1].x.public_key, eph, ct);
                REQUIRE(last);
                CHECK(trailer_keys(last->plaintext) ==
                      std::vector<std::string>{"enc_type", "ephemeral_key", "host", "method", "port", "protocol", "target"});
                auto layer = classify_layer(last->plaintext);
                REQUIRE(layer);
                auto* rs = std::get_if<RelayToServer>(&*layer);
                REQUIRE(rs);
                CHECK(rs->host == "127.0.0.1");
                CHECK(rs->port == 8080);
                CHECK(rs->protocol == "http");
                CHECK(rs->target == "/oxen/v4/lsrpc");
                CHECK(url_target_allowed(rs->target));
                CHECK(rs->payload == last->plaintext);

                // The server reads the same framing (OnionReqParser).
                auto sentry = parse_entry(rs->payload);
                REQUIRE(sentry);
                CHECK(sentry->info.enc_type == t);
                auto at_server = decrypt_layer(t, server.secret, server.public_key, sentry->info.ephemeral_key,
                                               sentry->ciphertext);
                REQUIRE(at_server);
                CHECK(at_server->plaintext == *v4);
                auto parsed = parse_v4_request(at_server->plaintext);
                REQUIRE(parsed);
                CHECK(parsed->method == "POST");
                CHECK(parsed->endpoint == "/file");
                CHECK(parsed->headers == Headers{{"X-Thing", "1"}, {"Content-Type", "application/json"}});
                REQUIRE(parsed->body);
                CHECK(str(*parsed->body) == upload);

                const std::string answer = R"({"id":"12345"})";
                auto plain = v4_response(201, {{"Content-Type", "application/json"}}, as_bytes(answer));
                auto enc_reply = encrypt_reply(t, at_server->reply_key, plain, *rng);
                REQUIRE(enc_reply);
                auto resp = decode_server_response(req->response_key, *enc_reply);
                REQUIRE(resp);
                CHECK(resp->status == 201);
                CHECK(resp->headers == Headers{{"content-type", "application/json"}});
                CHECK(str(resp->body) == answer);
            }
        }
    }
}

TEST_CASE("onion: an xchacha20 response key falls back to AES-GCM like libsession", "[onion]") {
    auto rng = system_rng();
    auto nodes = make_nodes(2, *rng);
    const X25519KeyPair server = generate_x25519(*rng);
    ServerDestination dest;
    dest.host = "push.example";
    dest.x25519 = server.public_key;
    auto req = build(keys_of(nodes, 2), dest, *v4_request("GET", "/", {}, std::nullopt), EncType::xchacha20, *rng);
    REQUIRE(req);
    // Peel to the server's layer to learn the innermost ephemeral key.
    auto entry = parse_entry(req->body).value();
    auto p0 = decrypt_layer(EncType::xchacha20, nodes[0].x.secret, nodes[0].x.public_key, entry.info.ephemeral_key,
                            entry.ciphertext)
                  .value();
    auto r0 = std::get<RelayToNode>(classify_layer(p0.plaintext).value());
    auto p1 =
        decrypt_layer(EncType::xchacha20, nodes[1].x.secret, nodes[1].x.public_key, r0.ephemeral_key, r0.ciphertext)
            .value();
    auto rs = std::get<RelayToServer>(classify_layer(p1.plaintext).value());
    auto sentry = parse_entry(rs.payload).value();
    // A legacy server answers in AES-GCM with the same DH.
    auto gcm_key = server_key(EncType::aes_gcm, server.secret, server.public_key, sentry.info.ephemeral_key).value();
    auto reply = encrypt_reply(EncType::aes_gcm, gcm_key, v4_response(200, {}, as_bytes("ok")), *rng).value();
    auto resp = decode_server_response(req->response_key, reply);
    REQUIRE(resp);
    CHECK(resp->status == 200);
    CHECK(str(resp->body) == "ok");
    // Garbage of a plausible length fails both ways with one error.
    Bytes junk(60, 0x42);
    auto bad = decrypt_response(req->response_key, junk);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::onion_decrypt_failed);
    auto tiny = decrypt_response(req->response_key, Bytes(10, 0));
    REQUIRE_FALSE(tiny);
    CHECK(tiny.error().code == Errc::onion_too_short);
}

// ---- owned buffers (issue 12: a 10 MB upload is held once) -------------------------------------

TEST_CASE("onion: building from an owned payload gives the same bytes as from a view", "[onion]") {
    auto rng = system_rng();
    auto nodes = make_nodes(4, *rng);
    const X25519KeyPair server = generate_x25519(*rng);
    auto target = make_node(*rng);
    ServerDestination to_server;
    to_server.host = "files.example";
    to_server.x25519 = server.public_key;
    const Bytes big = [] {
        Bytes b(200'000);
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 7 + (i >> 9));
        return b;
    }();
    for (EncType t : {EncType::aes_gcm, EncType::xchacha20}) {
        for (std::size_t hops = 1; hops <= 4; ++hops) {
            for (bool snode : {false, true}) {
                DYNAMIC_SECTION(to_string(t) << ", " << hops << " nodes, to a " << (snode ? "snode" : "server")) {
                    const Destination dest = snode ? Destination(SnodeDestination{target.keys()}) : Destination(to_server);
                    const auto path = keys_of(nodes, hops);
                    auto r1 = deterministic_rng(hops * 10 + (snode ? 1 : 0));
                    auto r2 = deterministic_rng(hops * 10 + (snode ? 1 : 0));
                    auto viewed = build(path, dest, big, t, *r1);
                    REQUIRE(viewed);
                    SECTION("no room: a new buffer") {
                        auto owned = build(path, dest, Bytes(big), t, *r2);
                        REQUIRE(owned);
                        CHECK(owned->body == viewed->body);
                    }
                    SECTION("room after it: sealed in place") {
                        Bytes b;
                        b.reserve(big.size() + detail::onion_wire::kOnionRoomBytes);
                        b.assign(big.begin(), big.end());
                        const auto* where = b.data();
                        auto owned = build(path, dest, std::move(b), t, *r2);
                        REQUIRE(owned);
                        CHECK(owned->body == viewed->body);
                        CHECK(owned->body.data() == where);  // the payload's buffer, not a copy
                    }
                }
            }
        }
    }
}

TEST_CASE("onion: a request built in place opens back into its payload", "[onion]") {
    auto rng = system_rng();
    auto nodes = make_nodes(3, *rng);
    auto target = make_node(*rng);
    ServerDestination to_server;
    to_server.host = "files.example";
    to_server.x25519 = generate_x25519(*rng).public_key;
    const Bytes payload = to_bytes(std::string(5000, 'p') + "end");
    for (EncType t : {EncType::aes_gcm, EncType::xchacha20}) {
        for (bool snode : {false, true}) {
            const Destination dest = snode ? Destination(SnodeDestination{target.keys()}) : Destination(to_server);
            detail::onion_wire::LayerKeys keys;
            auto built = detail::onion_wire::build_in_place(keys_of(nodes, 3), dest,
                                                            detail::onion_wire::Framed{payload, 0}, t, *rng, &keys);
            REQUIRE(built);
            CHECK(keys.keys.size() == 4);
            Bytes tampered = built->body;
            tampered[tampered.size() / 2] ^= 1;
            auto opened = detail::onion_wire::open_built(std::move(built->body), keys);
            REQUIRE(opened);
            CHECK(Bytes(opened->buf.begin() + static_cast<std::ptrdiff_t>(opened->off), opened->buf.end()) == payload);
            // Built again from what was opened: the next attempt's request, with fresh layers.
            auto again = detail::onion_wire::build_in_place(keys_of(nodes, 3), dest, std::move(*opened), t, *rng, &keys);
            REQUIRE(again);
            auto reopened = detail::onion_wire::open_built(std::move(again->body), keys);
            REQUIRE(reopened);
            CHECK(Bytes(reopened->buf.begin() + static_cast<std::ptrdiff_t>(reopened->off), reopened->buf.end()) == payload);
            auto bad = detail::onion_wire::open_built(std::move(tampered), keys);
            REQUIRE_FALSE(bad);
            CHECK(bad.error().code == Errc::onion_decrypt_failed);
        }
    }
}

TEST_CASE("onion: a v4 request from an owned body is the same bytes", "[onion]") {
    const Headers h{{"Content-Type", "application/octet-stream"}, {"User-Agent", "x"}};
    for (std::size_t n : {0U, 1U, 9U, 10U, 70'000U}) {
        Bytes body(n);
        for (std::size_t i = 0; i < n; ++i) body[i] = static_cast<std::uint8_t>(i);
        auto viewed = v4_request("POST", "/file", h, ByteView(body));
        REQUIRE(viewed);
        auto owned = v4_request("POST", "/file", h, Bytes(body));
        REQUIRE(owned);
        CHECK(*owned == *viewed);
        Bytes roomy;
        roomy.reserve(n + 4096);
        roomy.assign(body.begin(), body.end());
        auto in_place = v4_request("POST", "/file", h, std::move(roomy));
        REQUIRE(in_place);
        CHECK(*in_place == *viewed);
    }
    CHECK(v4_request("GET", "/file", {}, Bytes{1}).error().code == Errc::invalid_argument);
    CHECK(v4_request("POST", "file", {}, Bytes{1}).error().code == Errc::invalid_argument);
}

TEST_CASE("onion: decoding a v4 reply in its buffer gives the same results and errors", "[onion]") {
    auto rng = system_rng();
    auto a = generate_x25519(*rng);
    auto b = generate_x25519(*rng);
    for (EncType t : {EncType::xchacha20, EncType::aes_gcm}) {
        ResponseKey rk(t, client_key(t, a.secret, a.public_key, b.public_key).value(),
                       client_key(EncType::aes_gcm, a.secret, a.public_key, b.public_key).value());
        auto sk = server_key(t, b.secret, b.public_key, a.public_key).value();
        auto gk = server_key(EncType::aes_gcm, b.secret, b.public_key, a.public_key).value();
        auto sealed = [&](const Bytes& text) { return encrypt(t, sk, text, *rng).value(); };
        const Bytes body(100'000, 0x5a);
        std::vector<Bytes> replies = {
            sealed(v4_response(200, {{"Content-Type", "application/octet-stream"}}, body)),
            sealed(v4_response(404, {}, Bytes{})),
            sealed(to_bytes(std::string(R"(l30:{"code":200,"headers":{"a":1}}0:e)"))),
            sealed(to_bytes(std::string(R"(l12:{"code":200}e)"))),
            sealed(to_bytes(std::string(R"(l12:{"code":200}01:ae)"))),  // a leading zero: the decoder's error
            sealed(to_bytes(std::string(R"(l12:{"code":200}1:a1:be)"))),
            sealed(to_bytes(std::string(R"(l12:{"code":200}1:aex)"))),
            sealed(to_bytes(std::string(R"(l12:{"code":200}5:ae)"))),
            sealed(to_bytes(std::string(R"(l12:{"code":"x"}e)"))),
            sealed(to_bytes(std::string(R"(l7:{"code"e)"))),
            sealed(to_bytes(std::string("not bencode"))),
            encrypt(EncType::aes_gcm, gk, v4_response(201, {}, to_bytes(std::string("legacy"))), *rng).value(),
            Bytes(60, 0x42),
            Bytes(10, 0),
        };
        for (std::size_t i = 0; i < replies.size(); ++i) {
            DYNAMIC_SECTION(to_string(t) << " reply " << i) {
                auto viewed = decode_server_response(rk, ByteView(replies[i]));
                auto owned = decode_server_response(rk, Bytes(replies[i]));
                REQUIRE(static_cast<bool>(owned) == static_cast<bool>(viewed));
                if (viewed) {
                    CHECK(owned->status == viewed->status);
                    CHECK(owned->headers == viewed->headers);
                    CHECK(owned->body == viewed->body);
                } else {
                    CHECK(owned.error().code == viewed.error().code);
                    CHECK(owned.error().message == viewed.error().message);
                }
            }
        }
    }
}

// ---- rejections ----------------------------------------------------------------------------------

TEST_CASE("onion: build rejects bad paths and destinations", "[onion][reject]") {
    auto rng = system_rng();
    auto nodes = make_nodes(4, *rng);
    const Bytes p = to_bytes("{}");
    SECTION("empty path") {
        auto r = build({}, SnodeDestination{nodes[0].keys()}, p, EncType::aes_gcm, *rng);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::onion_bad_path);
    }
    SECTION("destination inside the path") {
        auto r = build(keys_of(nodes, 3), SnodeDestination{nodes[1].keys()}, p, EncType::aes_gcm, *rng);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::onion_bad_path);
    }
    SECTION("repeated path node") {
        std::vector<NodeKeys> path{nodes[0].keys(), nodes[1].keys(), nodes[0].keys()};
        auto r = build(path, SnodeDestination{nodes[3].keys()}, p, EncType::aes_gcm, *rng);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::onion_bad_path);
    }
    SECTION("server destination with a bad target, protocol or host") {
        ServerDestination d;
        d.host = "h";
        d.x25519 = nodes[3].x.public_key;
        d.target = "/oxen/v4/lsrpc?x=1";
        CHECK(build(keys_of(nodes, 3), d, p, EncType::aes_gcm, *rng).error().code == Errc::invalid_argument);
        d.target = "/oxen/v4/lsrpc";
        d.protocol = "ftp";
        CHECK(build(keys_of(nodes, 3), d, p, EncType::aes_gcm, *rng).error().code == Errc::invalid_argument);
        d.protocol = "https";
        d.host = "bad\xffhost";
        CHECK(build(keys_of(nodes, 3), d, p, EncType::aes_gcm, *rng).error().code == Errc::invalid_argument);
        d.host.clear();
        CHECK(build(keys_of(nodes, 3), d, p, EncType::aes_gcm, *rng).error().code == Errc::invalid_argument);
    }
    SECTION("low-order destination key") {
        NodeKeys bad = nodes[3].keys();
        bad.x25519 = X25519PublicKey{};  // all zeros: a low-order point
        auto r = build(keys_of(nodes, 3), SnodeDestination{bad}, p, EncType::aes_gcm, *rng);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::onion_bad_key);
    }
    SECTION("payload over 10 MiB") {
        Bytes big(kMaxPayloadBytes, 'x');
        auto r = build(keys_of(nodes, 1), SnodeDestination{nodes[3].keys()}, big, EncType::aes_gcm, *rng);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::onion_too_large);
    }
}

TEST_CASE("onion: each malformed entry request is its own error", "[onion][reject]") {
    auto rng = system_rng();
    auto node = make_node(*rng);
    auto client = generate_x25519(*rng);
    const EncType t = EncType::aes_gcm;
    auto key = client_key(t, client.secret, client.public_key, node.x.public_key).value();
    const Bytes ct = encrypt(t, key, as_bytes("hello, onion layer"), *rng).value();
    const std::string trailer = json{{"ephemeral_key", to_hex(client.public_key.view())}}.dump();
    const Bytes good = encode_combined(ct, trailer).value();

    auto code_of = [](const auto& r) { return r ? std::optional<Errc>() : std::optional<Errc>(r.error().code); };

    // The good request parses, defaults to aes-gcm and decrypts.
    auto entry = parse_entry(good);
    REQUIRE(entry);
    CHECK(entry->info.enc_type == EncType::aes_gcm);
    REQUIRE(decrypt_layer(t, node.x.secret, node.x.public_key, entry->info.ephemeral_key, entry->ciphertext));

    SECTION("truncated length prefix") {
        CHECK(code_of(parse_entry(Bytes{0x05, 0x00})) == Errc::onion_truncated);
        CHECK(code_of(parse_entry(Bytes{})) == Errc::onion_truncated);
    }
    SECTION("length past the end") {
        Bytes b = good;
        b[0] = static_cast<std::uint8_t>(b.size());  // N > what follows the prefix
        CHECK(code_of(parse_entry(b)) == Errc::onion_bad_payload);
        CHECK(code_of(parse_entry(Bytes{0xff, 0xff, 0xff, 0xff, '{', '}'})) == Errc::onion_bad_payload);
    }
    SECTION("bad JSON trailer") {
        CHECK(code_of(parse_entry(encode_combined(ct, "{\"ephemeral_key\": ").value())) == Errc::onion_bad_json);
        CHECK(code_of(parse_entry(encode_combined(ct, trailer + "x").value())) == Errc::onion_bad_json);
        CHECK(code_of(parse_entry(encode_combined(ct, "[1,2]").value())) == Errc::onion_bad_json);
        CHECK(code_of(parse_entry(encode_combined(ct, "").value())) == Errc::onion_bad_json);
    }
    SECTION("missing or ill-typed ephemeral_key") {
        CHECK(code_of(parse_entry(encode_combined(ct, R"({"enc_type":"aes-gcm"})").value())) ==
              Errc::onion_missing_field);
        CHECK(code_of(parse_entry(encode_combined(ct, R"({"ephemeral_key":5})").value())) == Errc::onion_missing_field);
    }
    SECTION("ephemeral_key not 64 hex digits") {
        CHECK(code_of(parse_entry(encode_combined(ct, R"({"ephemeral_key":"abcd"})").value())) == Errc::onion_bad_key);
        std::string zz(64, 'z');
        CHECK(code_of(parse_entry(encode_combined(ct, R"({"ephemeral_key":")" + zz + "\"}").value())) ==
              Errc::onion_bad_key);
    }
    SECTION("unknown enc_type") {
        json j = json::parse(trailer);
        j["enc_type"] = "aes-cbc";
        CHECK(code_of(parse_entry(encode_combined(ct, j.dump()).value())) == Errc::onion_bad_enc_type);
        j["enc_type"] = 1;
        CHECK(code_of(parse_entry(encode_combined(ct, j.dump()).value())) == Errc::onion_missing_field);
    }
    SECTION("hop_no is clamped and typed") {
        json j = json::parse(trailer);
        j["hop_no"] = -3;
        CHECK(parse_entry(encode_combined(ct, j.dump()).value())->info.hop_no == 0);
        j["hop_no"] = 2;
        CHECK(parse_entry(encode_combined(ct, j.dump()).value())->info.hop_no == 2);
        j["hop_no"] = "2";
        CHECK(code_of(parse_entry(encode_combined(ct, j.dump()).value())) == Errc::onion_missing_field);
    }
    SECTION("over the 10 MiB limit") {
        Bytes big(kMaxPayloadBytes + 1, 0);
        CHECK(code_of(parse_combined(big)) == Errc::onion_too_large);
        CHECK(code_of(encode_combined(big, "{}")) == Errc::onion_too_large);
    }
    SECTION("wrong key") {
        auto other = make_node(*rng);
        CHECK(code_of(decrypt_layer(t, other.x.secret, other.x.public_key, client.public_key, ct)) ==
              Errc::onion_decrypt_failed);
        // The right key with the other enc type also fails.
        CHECK(code_of(decrypt_layer(EncType::xchacha20, node.x.secret, node.x.public_key, client.public_key, ct)) ==
              Errc::onion_decrypt_failed);
    }
    SECTION("flipped tag byte, flipped IV byte, flipped ciphertext byte") {
        for (std::size_t pos : {ct.size() - 1, std::size_t{0}, kGcmIvBytes}) {
            Bytes bad = ct;
            bad[pos] ^= 0x01;
            CHECK(code_of(decrypt_layer(t, node.x.secret, node.x.public_key, client.public_key, bad)) ==
                  Errc::onion_decrypt_failed);
        }
    }
    SECTION("ciphertext shorter than IV + tag") {
        for (EncType et : {EncType::aes_gcm, EncType::xchacha20}) {
            CHECK(code_of(decrypt_layer(et, node.x.secret, node.x.public_key, client.public_key,
                                        Bytes(overhead(et) - 1, 0))) == Errc::onion_too_short);
            CHECK(code_of(decrypt_layer(et, node.x.secret, node.x.public_key, client.public_key, Bytes{})) ==
                  Errc::onion_too_short);
        }
    }
    SECTION("low-order ephemeral key") {
        CHECK(code_of(decrypt_layer(t, node.x.secret, node.x.public_key, X25519PublicKey{}, ct)) == Errc::onion_bad_key);
    }
}

TEST_CASE("onion: empty plaintext encrypts to exactly the overhead and round-trips", "[onion]") {
    auto rng = system_rng();
    for (EncType t : {EncType::aes_gcm, EncType::xchacha20}) {
        auto a = generate_x25519(*rng);
        auto b = generate_x25519(*rng);
        auto k = client_key(t, a.secret, a.public_key, b.public_key).value();
        auto wire = encrypt(t, k, {}, *rng).value();
        CHECK(wire.size() == overhead(t));
        auto back = decrypt(t, server_key(t, b.secret, b.public_key, a.public_key).value(), wire);
        REQUIRE(back);
        CHECK(back->empty());
        // xchacha20 keys depend on who is the client: swapping roles gives another key.
        if (t == EncType::xchacha20) {
            auto swapped = client_key(t, b.secret, b.public_key, a.public_key).value();
            CHECK_FALSE(swapped.equal_ct(k));
        }
    }
}

TEST_CASE("onion: classify_layer rejects malformed layers", "[onion][reject]") {
    const Bytes blob = to_bytes("ciphertext");
    auto layer = [&](std::string_view trailer) { return classify_layer(encode_combined(blob, trailer).value()); };
    CHECK(classify_layer(Bytes{1, 0}).error().code == Errc::onion_truncated);
    CHECK(classify_layer(Bytes{9, 0, 0, 0, 'a'}).error().code == Errc::onion_bad_payload);
    CHECK(layer("not json").error().code == Errc::onion_bad_json);
    CHECK(layer(R"({"headers":{},"json":"yes"})").error().code == Errc::onion_missing_field);
    CHECK(layer(R"({"headers":{},"base64":1})").error().code == Errc::onion_missing_field);
    CHECK(layer(R"({"host":"h"})").error().code == Errc::onion_missing_field);
    CHECK(layer(R"({"host":"h","target":"/oxen/v4/lsrpc","port":70000})").error().code == Errc::onion_missing_field);
    CHECK(layer(R"({"host":"h","target":"/oxen/v4/lsrpc","port":"80"})").error().code == Errc::onion_missing_field);
    CHECK(layer(R"({"ephemeral_key":"00"})").error().code == Errc::onion_missing_field);  // no destination
    const std::string k(64, 'a');
    CHECK(layer(R"({"destination":")" + k + R"("})").error().code == Errc::onion_missing_field);
    CHECK(layer(R"({"destination":"abc","ephemeral_key":")" + k + R"("})").error().code == Errc::onion_bad_key);
    CHECK(layer(R"({"destination":")" + k + R"(","ephemeral_key":")" + k + R"(","enc_type":"rot13"})")
              .error()
              .code == Errc::onion_bad_enc_type);
    // Priority: "headers" wins over "host", "host" over "destination".
    auto both = layer(R"({"headers":"","host":"h","target":"/oxen/v4/lsrpc"})");
    REQUIRE(both);
    CHECK(std::holds_alternative<FinalDestination>(*both));
    auto proxy = layer(R"({"host":"h","target":"t","destination":")" + k + R"("})");
    REQUIRE(proxy);
    CHECK(std::holds_alternative<RelayToServer>(*proxy));
    // xchacha20 relay and explicit flags are read.
    auto x = layer(R"({"destination":")" + k + R"(","ephemeral_key":")" + k + R"(","enc_type":"xchacha20"})");
    REQUIRE(x);
    CHECK(std::get<RelayToNode>(*x).enc_type == EncType::xchacha20);
    auto flags = layer(R"({"headers":[],"json":true,"base64":false})");
    REQUIRE(flags);
    CHECK(std::get<FinalDestination>(*flags).json);
    CHECK_FALSE(std::get<FinalDestination>(*flags).base64);
}

TEST_CASE("onion: node response decoding rejects bad replies", "[onion][reject]") {
    auto rng = system_rng();
    auto a = generate_x25519(*rng);
    auto b = generate_x25519(*rng);
    const EncType t = EncType::aes_gcm;
    auto k = client_key(t, a.secret, a.public_key, b.public_key).value();
    auto gk = client_key(EncType::aes_gcm, a.secret, a.public_key, b.public_key).value();
    ResponseKey rk(t, std::move(k), std::move(gk));
    auto sk = server_key(t, b.secret, b.public_key, a.public_key).value();
    auto sealed = [&](std::string_view text) { return base64_encode(encrypt(t, sk, as_bytes(text), *rng).value()); };

    CHECK(decode_node_response(rk, "!!!").error().code == Errc::onion_bad_response);
    CHECK(decode_node_response(rk, R"({"result":5})").error().code == Errc::onion_bad_response);
    CHECK(decode_node_response(rk, "{").error().code == Errc::onion_bad_response);
    CHECK(decode_node_response(rk, base64_encode(Bytes(10, 1))).error().code == Errc::onion_too_short);
    CHECK(decode_node_response(rk, base64_encode(Bytes(50, 1))).error().code == Errc::onion_decrypt_failed);
    CHECK(decode_node_response(rk, sealed("not json")).error().code == Errc::onion_bad_response);
    CHECK(decode_node_response(rk, sealed(R"({"body":"x"})")).error().code == Errc::onion_bad_response);
    CHECK(decode_node_response(rk, sealed(R"({"status":"200"})")).error().code == Errc::onion_bad_response);
    // status_code is accepted, a missing body means the whole JSON, a trailing newline is tolerated.
    auto r = decode_node_response(rk, sealed(R"({"status_code":421})") + "\n");
    REQUIRE(r);
    CHECK(r->status == 421);
    CHECK(r->body == R"({"status_code":421})");
    // json=true embeds the body as a value; the client sees its JSON text.
    auto emb = wrap_node_response(t, sk, 200, R"({"a":1})", true, FinalDestination{{}, true, false}, *rng).value();
    auto rk2 = ResponseKey(t, client_key(t, a.secret, a.public_key, b.public_key).value(),
                           client_key(t, a.secret, a.public_key, b.public_key).value());
    auto e = decrypt_response(rk2, emb);
    REQUIRE(e);
    CHECK(str(*e) == R"({"body":{"a":1},"status":200})");
    // json=false double-encodes, as the storage server does.
    auto dbl = wrap_node_response(t, sk, 406, R"({"a":1})", true, FinalDestination{}, *rng).value();
    auto d = decrypt_response(rk2, base64_decode(str(dbl)).value());
    REQUIRE(d);
    CHECK(str(*d) == R"({"body":"{\"a\":1}","status":406})");
}

TEST_CASE("onion: a reply read without a tree and one parsed in full decode alike", "[onion]") {
    // The plain wrapper ({"status":…,"body":"…"}, ASCII, short escapes) is scanned; the same reply
    // with its body's characters as \u escapes, or with a nested member, takes the full parse.
    ReplyKeys keys;
    const ResponseKey& rk = keys.rk;
    auto sealed = [&](std::string_view text) { return base64_encode(keys.seal(text)); };
    const std::string inner = R"({"results":[{"code":200,"body":{"hash":"h\\/"}}]})";
    const auto as_u_escapes = [](std::string_view s) {
        std::string out = "\"";
        char buf[8];
        for (unsigned char c : s) std::snprintf(buf, sizeof buf, "\\u%04x", c), out += buf;
        return out + "\"";
    };
    struct Case {
        std::string text;
        int status;
        std::string body;
    };
    const std::vector<Case> cases = {
            {json{{"status", 200}, {"body", inner}}.dump(), 200, inner},
            {R"({"status":200,"body":)" + as_u_escapes(inner) + "}", 200, inner},
            {R"({"status":200,"x":{"y":1},"body":)" + json(inner).dump() + "}", 200, inner},
            {R"( { "status_code" : 421 } )", 421, R"( { "status_code" : 421 } )"},
            {R"({"status_code":421,"y":[]})", 421, R"({"status_code":421,"y":[]})"},
            {R"({"status":200,"body":17})", 200, "17"},
            {R"({"status":200,"body":17,"z":null})", 200, "17"},
            {R"({"body":"","status":0})", 0, ""},
            {R"({"status":200,"status":201})", 201, R"({"status":200,"status":201})"},  // the last one, as nlohmann reads it
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto r = decode_node_response(rk, sealed(c.text));
        REQUIRE(r);
        CHECK(r->status == c.status);
        CHECK(r->body == c.body);
    }
    for (const std::string_view bad : {R"({"status":1000,"body":""})", R"({"status":"200","body":""})",
                                       R"({"status":200.0,"body":""})", R"({"status":-1,"body":""})",
                                       R"({"status":12345678901234567890,"body":""})", R"({"body":"x"})",
                                       R"({"status":200,"body":"x"} x)"}) {
        INFO(bad);
        auto r = decode_node_response(rk, sealed(bad));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::onion_bad_response);
    }
}

TEST_CASE("onion: v4 request encoding and parsing", "[onion]") {
    auto get = v4_request("GET", "/room/abc?x=1", {}, std::nullopt);
    REQUIRE(get);
    CHECK(str(*get) == R"(l56:{"method":"GET","endpoint":"/room/abc?x=1","headers":{}}e)");
    auto post = v4_request("POST", "/some/thing", {{"Some-Header", "a"}, {"Content-Type", "text/plain"}},
                           as_bytes("post body here"));
    REQUIRE(post);
    CHECK(str(*post) ==
          R"(l100:{"method":"POST","endpoint":"/some/thing","headers":{"Some-Header":"a","Content-Type":"text/plain"}}14:post body heree)");
    auto parsed = parse_v4_request(*post);
    REQUIRE(parsed);
    CHECK(parsed->headers.size() == 2);
    CHECK(str(*parsed->body) == "post body here");

    CHECK(v4_request("GET", "room", {}, std::nullopt).error().code == Errc::invalid_argument);
    CHECK(v4_request("", "/", {}, std::nullopt).error().code == Errc::invalid_argument);
    CHECK(v4_request("GET", "/", {}, as_bytes("x")).error().code == Errc::invalid_argument);
    // Invalid UTF-8 in caller text is an error value, not a JSON exception.
    CHECK(v4_request("GET", "/", {{"X-Bad", "\xff\xfe"}}, std::nullopt).error().code == Errc::invalid_argument);

    CHECK(parse_v4_request(as_bytes("le")).error().code == Errc::onion_bad_payload);
    CHECK(parse_v4_request(as_bytes("l2:{}e")).error().code == Errc::onion_bad_payload);
    CHECK(parse_v4_request(as_bytes("li1ee")).error().code == Errc::onion_bad_payload);
    CHECK(parse_v4_request(as_bytes(R"(l34:{"method":"GET","endpoint":"nope"}e)")).error().code ==
          Errc::onion_bad_payload);
    CHECK(parse_v4_request(as_bytes("l3:abc")).error().code == Errc::bencode_invalid);
}

TEST_CASE("onion: v4 response decoding rejects malformed replies", "[onion][reject]") {
    ReplyKeys keys;
    const ResponseKey& rk = keys.rk;
    auto sealed = [&](std::string_view text) { return keys.seal(text); };

    auto ok = decode_server_response(rk, sealed(R"(l12:{"code":404}e)"));
    REQUIRE(ok);
    CHECK(ok->status == 404);
    CHECK(ok->body.empty());
    CHECK(decode_server_response(rk, sealed("not bencode")).error().code == Errc::onion_bad_response);
    CHECK(decode_server_response(rk, sealed("le")).error().code == Errc::onion_bad_response);
    CHECK(decode_server_response(rk, sealed("li200ee")).error().code == Errc::onion_bad_response);
    CHECK(decode_server_response(rk, sealed(R"(l12:{"code":"x"}e)")).error().code == Errc::onion_bad_response);
    CHECK(decode_server_response(rk, sealed(R"(l12:{"code":200}i1ee)")).error().code == Errc::onion_bad_response);
    CHECK(decode_server_response(rk, sealed(R"(l12:{"code":200}1:a1:be)")).error().code == Errc::onion_bad_response);
    CHECK(decode_server_response(rk, sealed(R"(l25:{"code":200,"headers":[]}e)")).error().code ==
          Errc::onion_bad_response);
}

TEST_CASE("onion: url target filter", "[onion]") {
    CHECK(url_target_allowed("/oxen/v4/lsrpc"));
    CHECK(url_target_allowed("/loki/v3/lsrpc"));
    CHECK_FALSE(url_target_allowed("/oxen/v4/lsrpc/"));
    CHECK_FALSE(url_target_allowed("oxen/v4/lsrpc"));
    CHECK_FALSE(url_target_allowed(""));
}

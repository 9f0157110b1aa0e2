#include "session/envelope.hpp"

#include <catch2/catch.hpp>
#include <sodium.h>

#include <array>
#include <random>

#include "support/vectors.hpp"

using namespace session;
using namespace session::envelope;
using session::test::unhex;

namespace {

Identity identity_from_hex_seed(const std::string& hex32) {
    const Bytes b = unhex(hex32.substr(0, 64));  // a 64-byte sk starts with its 32-byte seed
    Secret<32> seed{std::span<const std::uint8_t, 32>(b.data(), 32)};
    return Identity::from_ed25519_seed(seed);
}

Identity alice() { return identity_from_hex_seed("0123456789abcdef0123456789abcdef00000000000000000000000000000000"); }
Identity bob() { return identity_from_hex_seed("00112233445566778899aabbccddeeff00000000000000000000000000000000"); }
Identity carol() { return identity_from_hex_seed("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"); }

constexpr std::int64_t kTs = 1725515532971;

OutgoingMessage text(std::string body, std::int64_t ts = kTs) {
    OutgoingMessage m;
    m.body = std::move(body);
    m.timestamp_ms = ts;
    m.display_name = "Alice";
    return m;
}

/// Unwraps sealed bytes into (WebSocketMessage, Envelope).
std::pair<proto::WebSocketMessage, proto::Envelope> unwrap(const Bytes& sealed) {
    auto ws = proto::WebSocketMessage::decode(sealed);
    REQUIRE(ws);
    REQUIRE(ws->request);
    REQUIRE(ws->request->body);
    auto env = proto::Envelope::decode(*ws->request->body);
    REQUIRE(env);
    return {*ws, *env};
}

/// Re-wraps an Envelope in a WebSocket request.
Bytes rewrap(const proto::Envelope& env) {
    proto::WebSocketMessage ws;
    ws.type = proto::WebSocketMessage::Type::request;
    ws.request = proto::WebSocketRequestMessage{};
    ws.request->body = env.encode();
    return ws.encode();
}

Bytes sealed_with(const Identity& from, const Identity& to, ByteView plaintext, std::uint64_t ts = kTs) {
    auto ct = encrypt_for_recipient(from, to.x25519_public(), plaintext);
    REQUIRE(ct);
    return wrap(*ct, ts, decoy_pro_sig());
}

Errc open_error(const Identity& self, const Bytes& data) {
    auto r = open(self, data);
    if (r) FAIL("open unexpectedly succeeded");
    return r.error().code;
}

}  // namespace

// ------------------------------------------------------------------------------ padding

TEST_CASE("envelope: pad follows the current libsession rule and the legacy desktop rule", "[envelope][padding]") {
    const std::pair<std::size_t, std::size_t> current[] = {{0, 160}, {1, 160}, {158, 160}, {159, 320}, {160, 320},
                                                           {318, 320}, {319, 480}, {5000, 5120}};
    const std::pair<std::size_t, std::size_t> legacy[] = {{0, 159}, {1, 159}, {157, 159}, {158, 159}, {159, 319},
                                                          {160, 319}, {318, 319}, {5000, 5119}};
    for (auto [len, want] : current) {
        const Bytes content(len, 0x41);
        const Bytes p = pad(content, PaddingRule::current);
        CHECK(p.size() == want);
        CHECK(p.size() % kPaddingBlockBytes == 0);
        CHECK(p[len] == 0x80);
        for (std::size_t i = len + 1; i < p.size(); ++i) CHECK(p[i] == 0);
        CHECK(unpad(p) == content);
        CHECK(unpad_strict(p).value() == content);
    }
    for (auto [len, want] : legacy) {
        const Bytes content(len, 0x41);
        const Bytes p = pad(content, PaddingRule::legacy);
        CHECK(p.size() == want);
        CHECK(p[len] == 0x80);
        CHECK(unpad(p) == content);
        CHECK(unpad_strict(p).value() == content);
    }
    CHECK(pad({}) == [] { Bytes b(160, 0); b[0] = 0x80; return b; }());
}

TEST_CASE("envelope: unpad is lenient exactly like libsession unpad_message", "[envelope][padding]") {
    CHECK(unpad(unhex("0102")) == unhex("0102"));          // no padding at all
    CHECK(unpad(unhex("01020000")) == unhex("0102"));      // zeros dropped even without 0x80
    CHECK(unpad(unhex("0180000080")) == unhex("01800000"));  // only the last 0x80 is the terminator
    CHECK(unpad(unhex("000000")).empty());
    CHECK(unpad(unhex("80")).empty());
    CHECK(unpad({}).empty());

    auto none = unpad_strict(unhex("0102"));
    REQUIRE_FALSE(none);
    CHECK(none.error().code == Errc::envelope_bad_padding);
    Bytes odd = unhex("0102800000000000");  // 8 bytes: neither 160 nor 159
    auto wrong = unpad_strict(odd);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == Errc::envelope_bad_padding);
    CHECK(wrong.error().message.find("should pad to 160 or 159 bytes, got 8") != std::string::npos);
}

// ------------------------------------------------------------------------------ session_encrypt.json

TEST_CASE("envelope: deterministic encryption matches the libsession KAT", "[envelope][kat]") {
    const auto v = test::vector("session_encrypt.json", "encrypt_for_recipient_deterministic_hello");
    const Identity sender = identity_from_hex_seed(v.at("sender_ed25519_seed_hex"));
    CHECK(to_hex(sender.ed25519_public().view()) == v.at("sender_ed25519_pk_hex").get<std::string>());
    auto to = SessionId::parse(v.at("recipient_session_id_hex").get<std::string>());
    REQUIRE(to);
    auto ct = encrypt_for_recipient_deterministic(sender, to->x25519(), test::hex(v, "message_hex"));
    REQUIRE(ct);
    CHECK(to_hex(*ct) == v.at("expected_ciphertext_hex").get<std::string>());
    CHECK(ct->size() == v.at("expected_ciphertext_len").get<std::size_t>());
    // Same inputs, same bytes.
    CHECK(encrypt_for_recipient_deterministic(sender, to->x25519(), test::hex(v, "message_hex")).value() == *ct);
}

TEST_CASE("envelope: decrypt_incoming opens the libsession KAT ciphertext", "[envelope][kat]") {
    const auto v = test::vector("session_encrypt.json", "decrypt_incoming_deterministic_hello");
    const Identity self = identity_from_hex_seed(v.at("recipient_ed25519_seed_hex"));
    CHECK(to_hex(self.x25519_public().view()) == v.at("recipient_x25519_pk_hex").get<std::string>());
    auto d = decrypt_incoming(self, test::hex(v, "ciphertext_hex"));
    REQUIRE(d);
    CHECK(d->plaintext == test::hex(v, "expected_message_hex"));
    CHECK(to_hex(d->sender_ed25519.view()) == v.at("expected_sender_ed25519_pk_hex").get<std::string>());
    CHECK(d->sender.hex() == v.at("expected_sender_session_id_hex").get<std::string>());
}

TEST_CASE("envelope: decrypt_incoming rejects every must-fail vector with its own error", "[envelope][kat][reject]") {
    const std::pair<const char*, Errc> cases[] = {
        {"decrypt_incoming_wrong_recipient", Errc::envelope_decrypt_failed},
        {"decrypt_incoming_flipped_byte_2", Errc::envelope_decrypt_failed},
        {"decrypt_incoming_flipped_byte_14", Errc::envelope_decrypt_failed},
        {"decrypt_incoming_too_short", Errc::envelope_too_short},
        {"decrypt_incoming_signature_for_other_recipient", Errc::envelope_bad_signature},
    };
    for (auto [name, code] : cases) {
        DYNAMIC_SECTION(name) {
            const auto v = test::vector("session_encrypt.json", name);
            const Identity self = identity_from_hex_seed(v.at("recipient_ed25519_sk_hex"));
            auto d = decrypt_incoming(self, test::hex(v, "ciphertext_hex"));
            REQUIRE_FALSE(d);
            CHECK(d.error().code == code);
        }
    }
}

TEST_CASE("envelope: random encryption differs each time and opens only for the recipient", "[envelope]") {
    const Identity a = alice(), b = bob();
    const std::string lorem =
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
        "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex "
        "ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu "
        "fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia "
        "deserunt mollit anim id est laborum.";
    for (const std::string& msg : {std::string("hello"), lorem}) {
        auto c1 = encrypt_for_recipient(a, b.x25519_public(), as_bytes(msg));
        auto c2 = encrypt_for_recipient(a, b.x25519_public(), as_bytes(msg));
        REQUIRE(c1);
        REQUIRE(c2);
        CHECK(*c1 != *c2);
        CHECK(c1->size() == msg.size() + kMinCiphertextBytes);
        auto d = decrypt_incoming(b, *c1);
        REQUIRE(d);
        CHECK(to_string(d->plaintext) == msg);
        CHECK(d->sender == a.session_id());
        CHECK(d->sender_ed25519 == a.ed25519_public());
        CHECK(decrypt_incoming(a, *c1).error().code == Errc::envelope_decrypt_failed);
        Bytes flipped = *c1;
        flipped[14] ^= 0x80;
        CHECK(decrypt_incoming(b, flipped).error().code == Errc::envelope_decrypt_failed);
    }
    // A low-order recipient key cannot be sealed to.
    X25519PublicKey zero{};
    auto bad = encrypt_for_recipient(a, zero, as_bytes("x"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::key_invalid);
}

// A sender key with a small-order component (A' = A + T, T of order 8) can still make signatures
// that verify, but libsodium (so libsession) has no X25519 form for it: such a message must be
// refused — every time, including after the sender-key cache has seen valid keys.
TEST_CASE("envelope: decrypt_incoming refuses a sender key outside the prime-order subgroup", "[envelope][reject]") {
    REQUIRE(sodium_init() >= 0);
    const Identity a = alice(), b = bob();
    const Bytes torsion = unhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");  // order 8
    std::array<std::uint8_t, 32> mixed{};
    REQUIRE(crypto_core_ed25519_add(mixed.data(), a.ed25519_public().bytes.data(), torsion.data()) == 0);
    // Alice's secret scalar (SHA-512(seed)[0..32], clamped), reduced mod L.
    std::array<std::uint8_t, 64> wide{};
    REQUIRE(crypto_sign_ed25519_sk_to_curve25519(wide.data(), a.ed25519_secret().reveal().data()) == 0);
    std::array<std::uint8_t, 32> scalar{};
    crypto_core_ed25519_scalar_reduce(scalar.data(), wide.data());

    const ByteView mv = as_bytes("a message from a mixed-order key");
    const Bytes m(mv.begin(), mv.end());
    Bytes signed_msg = m;
    signed_msg.insert(signed_msg.end(), mixed.begin(), mixed.end());
    const auto bx = b.x25519_public().view();
    signed_msg.insert(signed_msg.end(), bx.begin(), bx.end());
    // Sign as A' would: pick r until h = H(R || A' || M') is a multiple of 8, so h·T vanishes and the
    // signature verifies against A' exactly as against A.
    std::array<std::uint8_t, 64> sig{};
    for (int tries = 0;; ++tries) {
        REQUIRE(tries < 1000);
        std::array<std::uint8_t, 32> r{};
        crypto_core_ed25519_scalar_random(r.data());
        REQUIRE(crypto_scalarmult_ed25519_base_noclamp(sig.data(), r.data()) == 0);
        std::array<std::uint8_t, 64> digest{};
        crypto_hash_sha512_state st;
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, sig.data(), 32);
        crypto_hash_sha512_update(&st, mixed.data(), 32);
        crypto_hash_sha512_update(&st, signed_msg.data(), signed_msg.size());
        crypto_hash_sha512_final(&st, digest.data());
        std::array<std::uint8_t, 32> h{}, ha{};
        crypto_core_ed25519_scalar_reduce(h.data(), digest.data());
        if (h[0] % 8 != 0) continue;
        crypto_core_ed25519_scalar_mul(ha.data(), h.data(), scalar.data());
        crypto_core_ed25519_scalar_add(sig.data() + 32, r.data(), ha.data());
        break;
    }
    REQUIRE(crypto_sign_ed25519_verify_detached(sig.data(), signed_msg.data(), signed_msg.size(), mixed.data()) == 0);

    Bytes inner = m;
    inner.insert(inner.end(), mixed.begin(), mixed.end());
    inner.insert(inner.end(), sig.begin(), sig.end());
    Bytes sealed(inner.size() + crypto_box_SEALBYTES);
    REQUIRE(crypto_box_seal(sealed.data(), inner.data(), inner.size(), b.x25519_public().bytes.data()) == 0);

    for (int round = 0; round < 2; ++round) {
        auto good = encrypt_for_recipient(a, b.x25519_public(), as_bytes("hi"));
        REQUIRE(good);
        auto ok = decrypt_incoming(b, *good);  // the real key converts (and is remembered)
        REQUIRE(ok);
        CHECK(ok->sender == a.session_id());
        auto bad = decrypt_incoming(b, sealed);
        REQUIRE_FALSE(bad);
        CHECK(bad.error().code == Errc::envelope_bad_sender_key);
    }
}

// ------------------------------------------------------------------------------ outgoing Content

TEST_CASE("envelope: build_content matches what session-desktop builds for a text message", "[envelope][kat]") {
    OutgoingMessage m;
    m.body = "hi";
    m.timestamp_ms = 1000;
    m.display_name = "A";
    const proto::Content c = build_content(m);
    // dataMessage{body "hi", profile{displayName "A", lastProfileUpdateSeconds 1}}, expirationType
    // UNKNOWN (0), expirationTimer 0, sigTimestamp 1000 — fields in ascending order.
    CHECK(to_hex(c.encode()) == "0a0c" "0a026869" "aa0605" "0a0141" "1801" "6000" "6800" "78e807");

    m.expiration_type = ExpirationType::delete_after_read;
    m.expiration_timer = std::chrono::seconds(86400);
    m.profile_updated_seconds = 7;
    m.profile_picture_url = "http://filev2.getsession.org/file/1";
    m.profile_key = Bytes(32, 0x11);
    proto::Quote q;
    q.id = 5;
    q.author = "05ab";
    q.text = "not sent";
    m.quote = q;
    const proto::Content c2 = build_content(m);
    REQUIRE(c2.data_message);
    CHECK(c2.expiration_type == ExpirationType::delete_after_read);
    CHECK(c2.expiration_timer == 86400u);
    CHECK(c2.data_message->profile->last_profile_update_seconds == 7u);
    CHECK(c2.data_message->profile->profile_picture == m.profile_picture_url);
    CHECK(c2.data_message->profile_key == m.profile_key);
    CHECK(c2.data_message->quote->id == 5u);
    CHECK(c2.data_message->quote->author == "05ab");
    CHECK_FALSE(c2.data_message->quote->text.has_value());  // desktop sends id + author only
    CHECK_FALSE(c2.data_message->expire_timer.has_value());  // never the legacy field
    CHECK_FALSE(c2.data_message->timestamp.has_value());
    CHECK_FALSE(c2.data_message->flags.has_value());

    OutgoingMessage anon;
    anon.body = "x";
    anon.timestamp_ms = 1;
    CHECK_FALSE(build_content(anon).data_message->profile.has_value());
    OutgoingMessage negative;
    negative.timestamp_ms = -1;
    CHECK_THROWS_AS(build_content(negative), std::invalid_argument);
}

// ------------------------------------------------------------------------------ seal / open

TEST_CASE("envelope: sealed bytes have the libsession encode_for_1o1 wire layout", "[envelope]") {
    const Identity a = alice(), b = bob();
    auto sealed = seal(a, b.session_id(), text("hello"));
    REQUIRE(sealed);
    auto [ws, env] = unwrap(*sealed);
    CHECK(ws.type == proto::WebSocketMessage::Type::request);
    CHECK(ws.request->verb == std::optional<std::string>(""));
    CHECK(ws.request->path == std::optional<std::string>(""));
    CHECK(ws.request->request_id == std::optional<std::uint64_t>(0));
    CHECK(ws.request->headers.empty());
    CHECK(env.type == proto::Envelope::Type::session_message);
    CHECK_FALSE(env.source.has_value());
    CHECK(env.timestamp == static_cast<std::uint64_t>(kTs));
    CHECK(env.source_device == std::optional<std::uint32_t>(1));
    REQUIRE(env.pro_sig);
    CHECK(env.pro_sig->size() == 64);
    CHECK_FALSE(env.server_timestamp.has_value());
    // The WebSocket layer is byte-exact: type, request{verb "", path "", body, requestId 0}.
    const Bytes body = *ws.request->body;
    Bytes expect = unhex("0801" "12");
    proto::Writer inner;
    inner.bytes_field(1, {});
    inner.bytes_field(2, {});
    inner.bytes_field(3, body);
    inner.varint_field(4, 0);
    proto::Writer w;
    w.length_delimited(inner.data());
    expect.insert(expect.end(), w.data().begin(), w.data().end());
    CHECK(*sealed == expect);
    // Padded plaintext is a multiple of 160 and carries the signed timestamp.
    auto d = decrypt_incoming(b, *env.content);
    REQUIRE(d);
    CHECK(d->plaintext.size() % kPaddingBlockBytes == 0);
    auto content = proto::Content::decode(unpad(d->plaintext));
    REQUIRE(content);
    CHECK(content->sig_timestamp == static_cast<std::uint64_t>(kTs));
    CHECK(content->expiration_type == ExpirationType::none);
    CHECK(content->expiration_timer == 0u);
    // The decoy proSig's R is a valid curve point (libsession makes R = r·B).
    CHECK(decoy_pro_sig() != decoy_pro_sig());
}

TEST_CASE("envelope: seal then open round-trips bodies of many sizes", "[envelope]") {
    const Identity a = alice(), b = bob();
    std::mt19937 gen(7);
    std::vector<std::string> bodies = {"", "x", std::string(158, 'a'), std::string(159, 'b'), std::string(160, 'c'),
                                       std::string(5000, 'd'),
                                       "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 \xe0\xa0\x80 \xe4\xb8\xad\xe6\x96\x87"};
    for (int i = 0; i < 20; ++i) {
        std::string s(gen() % 700, ' ');
        for (auto& ch : s) ch = static_cast<char>(0x20 + gen() % 95);
        bodies.push_back(s);
    }
    for (const auto& body : bodies) {
        auto sealed = seal(a, b.session_id(), text(body));
        REQUIRE(sealed);
        auto m = open(b, *sealed);
        REQUIRE(m);
        CHECK(m->sender == a.session_id());
        CHECK(m->sender_ed25519 == a.ed25519_public());
        CHECK(m->body == body);
        CHECK(m->kind == (body.empty() ? MessageKind::other : MessageKind::text));
        CHECK(m->envelope_timestamp_ms == kTs);
        CHECK(m->sig_timestamp_ms == kTs);
        CHECK(m->display_name == std::optional<std::string>("Alice"));
        CHECK(m->expiration_type == ExpirationType::none);
        CHECK(m->padded);
        CHECK(m->content == build_content(text(body)));
        // Through the swarm's base64 `data` too.
        auto raw = from_swarm_data(to_swarm_data(*sealed));
        REQUIRE(raw);
        CHECK(open(b, *raw).has_value());
    }
}

TEST_CASE("envelope: open accepts both padding rules and unpadded content", "[envelope][padding]") {
    const Identity a = alice(), b = bob();
    proto::Content c = build_content(text("padding"));
    auto legacy = seal(a, b.session_id(), c, kTs, PaddingRule::legacy);
    REQUIRE(legacy);
    auto [ws, env] = unwrap(*legacy);
    CHECK(decrypt_incoming(b, *env.content)->plaintext.size() % kPaddingBlockBytes == kPaddingBlockBytes - 1);
    auto m1 = open(b, *legacy);
    REQUIRE(m1);
    CHECK(m1->body == "padding");
    CHECK(m1->padded);

    const Bytes unpadded = sealed_with(a, b, c.encode());  // ends in sigTimestamp's last varint byte
    auto m2 = open(b, unpadded);
    REQUIRE(m2);
    CHECK(m2->body == "padding");
    CHECK_FALSE(m2->padded);
    CHECK(m2->content == c);
}

TEST_CASE("envelope: open reports each content kind", "[envelope]") {
    const Identity a = alice(), b = bob();
    auto kind_of = [&](proto::Content c) {
        auto sealed = seal(a, b.session_id(), c, kTs);
        REQUIRE(sealed);
        auto m = open(b, *sealed);
        REQUIRE(m);
        return *m;
    };
    proto::Content timer;
    timer.data_message = proto::DataMessage{};
    timer.data_message->flags = proto::DataMessage::kFlagExpirationTimerUpdate;
    set_expiration(timer, ExpirationType::delete_after_send, std::chrono::seconds(3600));
    auto t = kind_of(timer);
    CHECK(t.kind == MessageKind::expiration_timer_update);
    CHECK(t.expiration_type == ExpirationType::delete_after_send);
    CHECK(t.expiration_timer.count() == 3600);

    proto::Content read;
    read.receipt_message = proto::ReceiptMessage{};
    read.receipt_message->timestamp = {1, 2};
    CHECK(kind_of(read).kind == MessageKind::receipt);

    proto::Content typing;
    typing.typing_message = proto::TypingMessage{};
    CHECK(kind_of(typing).kind == MessageKind::typing);

    proto::Content unsend;
    unsend.unsend_request = proto::UnsendRequest{};
    CHECK(kind_of(unsend).kind == MessageKind::unsend);

    proto::Content accept;
    accept.message_request_response = proto::MessageRequestResponse{};
    accept.message_request_response->is_approved = true;
    accept.message_request_response->profile = proto::LokiProfile{};
    accept.message_request_response->profile->display_name = "Alice";
    auto acc = kind_of(accept);
    CHECK(acc.kind == MessageKind::message_request_response);
    CHECK(acc.display_name == std::optional<std::string>("Alice"));

    proto::Content shot;
    shot.data_extraction_notification = proto::DataExtractionNotification{};
    CHECK(kind_of(shot).kind == MessageKind::data_extraction);

    OutgoingMessage r;
    r.timestamp_ms = kTs;
    r.reaction = proto::Reaction{};
    r.reaction->emoji = "x";
    CHECK(kind_of(build_content(r)).kind == MessageKind::reaction);

    proto::Content call;
    call.unknown_fields = unhex("1a05" "0806" "2a0175");  // callMessage{type PRE_OFFER, uuid "u"}
    CHECK(kind_of(call).kind == MessageKind::call);

    OutgoingMessage disappearing = text("bye");
    disappearing.expiration_type = ExpirationType::delete_after_read;
    disappearing.expiration_timer = std::chrono::seconds(300);
    auto dm = kind_of(build_content(disappearing));
    CHECK(dm.kind == MessageKind::text);
    CHECK(dm.expiration_type == ExpirationType::delete_after_read);
    CHECK(dm.expiration_timer.count() == 300);

    CHECK(kind_of(proto::Content{}).kind == MessageKind::other);
    CHECK(to_string(MessageKind::message_request_response) == "message_request_response");
    CHECK(to_string(MessageKind::expiration_timer_update) == "expiration_timer_update");
}

TEST_CASE("envelope: seal refuses a negative timestamp and a conflicting sigTimestamp", "[envelope][reject]") {
    const Identity a = alice(), b = bob();
    proto::Content c = build_content(text("x"));
    CHECK(seal(a, b.session_id(), c, -1).error().code == Errc::invalid_argument);
    CHECK(seal(a, b.session_id(), c, kTs + 1).error().code == Errc::invalid_argument);
    c.sig_timestamp.reset();
    auto ok = seal(a, b.session_id(), c, kTs + 1);
    REQUIRE(ok);
    CHECK(open(b, *ok)->sig_timestamp_ms == kTs + 1);
}

TEST_CASE("envelope: open rejects each malformed layer with its own error", "[envelope][reject]") {
    const Identity a = alice(), b = bob(), c = carol();
    auto sealed = seal(a, b.session_id(), text("secret"));
    REQUIRE(sealed);
    auto [ws, env] = unwrap(*sealed);

    SECTION("another recipient") { CHECK(open_error(c, *sealed) == Errc::envelope_decrypt_failed); }
    SECTION("the sender cannot open its own message") { CHECK(open_error(a, *sealed) == Errc::envelope_decrypt_failed); }
    SECTION("one flipped ciphertext byte") {
        for (std::size_t pos : {std::size_t{0}, std::size_t{40}, env.content->size() - 1}) {
            proto::Envelope e = env;
            (*e.content)[pos] ^= 0x01;
            CHECK(open_error(b, rewrap(e)) == Errc::envelope_decrypt_failed);
        }
    }
    SECTION("truncated data") {
        for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{10}, sealed->size() - 1}) {
            Bytes t(sealed->begin(), sealed->begin() + static_cast<std::ptrdiff_t>(n));
            auto r = open(b, t);
            REQUIRE_FALSE(r);
            CHECK((r.error().code == Errc::envelope_malformed || r.error().code == Errc::envelope_not_request));
        }
    }
    SECTION("ciphertext too short") {
        proto::Envelope e = env;
        e.content->resize(kMinCiphertextBytes - 1);
        CHECK(open_error(b, rewrap(e)) == Errc::envelope_too_short);
    }
    SECTION("garbage") {
        CHECK(open_error(b, unhex("ffffffff")) == Errc::envelope_malformed);
        CHECK(open_error(b, Bytes(500, 0x00)) == Errc::envelope_malformed);
    }
    SECTION("a bare Envelope is not accepted (libsession requires the WebSocket wrapper)") {
        CHECK(open_error(b, *ws.request->body) == Errc::envelope_not_request);
    }
    SECTION("response instead of request") {
        proto::WebSocketMessage resp;
        resp.type = proto::WebSocketMessage::Type::response;
        resp.response = proto::WebSocketResponseMessage{};
        resp.response->body = *ws.request->body;
        CHECK(open_error(b, resp.encode()) == Errc::envelope_not_request);
    }
    SECTION("request without body") {
        proto::WebSocketMessage w = ws;
        w.request->body.reset();
        CHECK(open_error(b, w.encode()) == Errc::envelope_no_body);
    }
    SECTION("Envelope missing its required timestamp") {
        proto::WebSocketMessage w = ws;
        w.request->body = unhex("0806");
        CHECK(open_error(b, w.encode()) == Errc::envelope_malformed);
    }
    SECTION("unknown envelope type") {
        proto::Envelope e = env;
        e.type = static_cast<proto::Envelope::Type>(5);
        CHECK(open_error(b, rewrap(e)) == Errc::envelope_bad_type);
    }
    SECTION("CLOSED_GROUP_MESSAGE type is accepted like libsession does") {
        proto::Envelope e = env;
        e.type = proto::Envelope::Type::closed_group_message;
        CHECK(open(b, rewrap(e)).has_value());
    }
    SECTION("bad source, while empty and 66-hex sources are accepted") {
        proto::Envelope e = env;
        e.source = "abc";
        CHECK(open_error(b, rewrap(e)) == Errc::envelope_bad_source);
        e.source = std::string(66, 'z');
        CHECK(open_error(b, rewrap(e)) == Errc::envelope_bad_source);
        e.source = "";
        CHECK(open(b, rewrap(e)).has_value());
        e.source = c.session_id().hex();  // a lie: the sender still comes from the signed key
        auto m = open(b, rewrap(e));
        REQUIRE(m);
        CHECK(m->sender == a.session_id());
        CHECK(m->envelope_source == c.session_id().hex());
    }
    SECTION("no content") {
        proto::Envelope e = env;
        e.content.reset();
        CHECK(open_error(b, rewrap(e)) == Errc::envelope_no_content);
    }
    SECTION("proSig of the wrong size; absent proSig is accepted (older clients)") {
        proto::Envelope e = env;
        e.pro_sig = Bytes(10, 1);
        CHECK(open_error(b, rewrap(e)) == Errc::envelope_bad_pro_sig);
        e.pro_sig.reset();
        CHECK(open(b, rewrap(e)).has_value());
    }
    SECTION("timestamp out of range") {
        proto::Envelope e = env;
        e.timestamp = UINT64_MAX;
        CHECK(open_error(b, rewrap(e)) == Errc::envelope_malformed);
    }
    SECTION("signature made for another recipient") {
        const auto v = test::vector("session_encrypt.json", "decrypt_incoming_signature_for_other_recipient");
        CHECK(open_error(bob(), wrap(test::hex(v, "ciphertext_hex"), kTs, decoy_pro_sig())) ==
              Errc::envelope_bad_signature);
    }
    SECTION("Content that does not parse") {
        CHECK(open_error(b, sealed_with(a, b, pad(unhex("0a05")))) == Errc::envelope_bad_content);
        CHECK(open_error(b, sealed_with(a, b, pad(unhex("7801" "2a00")))) == Errc::envelope_bad_content);  // receipt without type
    }
    SECTION("sigTimestamp differing from the envelope timestamp") {
        proto::Content content = build_content(text("replayed"));
        content.sig_timestamp = kTs - 1000;
        CHECK(open_error(b, sealed_with(a, b, pad(content.encode()), kTs)) == Errc::envelope_timestamp_mismatch);
        // An envelope timestamp of 0 (the envelope is not signed: anyone can zero it) is no way
        // around the check.
        CHECK(open_error(b, sealed_with(a, b, pad(content.encode()), 0)) == Errc::envelope_timestamp_mismatch);
        content.sig_timestamp = kTs;
        CHECK(open_error(b, sealed_with(a, b, pad(content.encode()), 0)) == Errc::envelope_timestamp_mismatch);
        CHECK(open(b, sealed_with(a, b, pad(content.encode()), kTs)).has_value());
        // absent or zero sigTimestamp is a legacy client: accepted
        content.sig_timestamp.reset();
        CHECK(open(b, sealed_with(a, b, pad(content.encode()), kTs)).has_value());
        content.sig_timestamp = 0;
        CHECK(open(b, sealed_with(a, b, pad(content.encode()), kTs)).has_value());
    }
    SECTION("too large") {
        Bytes big(kMaxMessageBytes + 1, 0);
        CHECK(open_error(b, big) == Errc::envelope_too_large);
    }
}

TEST_CASE("envelope: random mutations of a sealed message never open as something else", "[envelope][reject]") {
    const Identity a = alice(), b = bob();
    auto sealed = seal(a, b.session_id(), text("mutate me"));
    REQUIRE(sealed);
    std::mt19937 gen(99);
    int opened = 0;
    for (int i = 0; i < 3000; ++i) {
        Bytes m = *sealed;
        const int flips = 1 + static_cast<int>(gen() % 3);
        for (int k = 0; k < flips; ++k) m[gen() % m.size()] ^= static_cast<std::uint8_t>(1u << (gen() % 8));
        auto r = open(b, m);
        if (r) {
            // Only a change outside the authenticated ciphertext (proSig, request fields) can open,
            // and then the message is the original one.
            ++opened;
            CHECK(r->body == "mutate me");
            CHECK(r->sender == a.session_id());
        }
    }
    CHECK(opened < 3000);
}

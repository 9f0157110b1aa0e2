// checks.cpp: the checks session-selftest runs. Known answers are copied from tests/vectors/*.json
// (each file cites the upstream test it comes from); round trips use a fixed-seed generator so a
// failure reproduces.
#include "checks.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "detail/crypto.hpp"
#include "detail/onion_node.hpp"
#include "session/bytes.hpp"
#include "session/envelope.hpp"
#include "session/keys.hpp"
#include "session/mnemonic.hpp"
#include "session/onion.hpp"
#include "session/retrieve.hpp"
#include "session/rng.hpp"
#include "session/swarm.hpp"

namespace session::selftest {
namespace {

// ---- helpers ---------------------------------------------------------------------------------

Bytes unhex(std::string_view h) {
    auto b = from_hex(h);
    if (!b) throw std::invalid_argument("selftest: bad compiled-in hex: " + b.error().message);
    return *b;
}

template <std::size_t N>
ByteArray<N> unhex_array(std::string_view h) {
    auto b = from_hex_array<N>(h);
    if (!b) throw std::invalid_argument("selftest: bad compiled-in hex: " + b.error().message);
    return *b;
}

template <std::size_t N>
Secret<N> secret_hex(std::string_view h) {
    auto a = unhex_array<N>(h);
    Secret<N> s{std::span<const std::uint8_t, N>(a)};
    detail::wipe(a.data(), a.size());
    return s;
}

template <class Key>
Key key_hex(std::string_view h) {
    return Key{unhex_array<32>(h)};
}

// "differs at byte K (expected .., got ..)" or a length mismatch, for byte comparisons.
Outcome compare(std::string_view what, ByteView expected, ByteView got) {
    if (expected.size() != got.size())
        return std::string(what) + ": expected " + std::to_string(expected.size()) + " bytes, got " +
               std::to_string(got.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
        if (expected[i] != got[i])
            return std::string(what) + ": differs at byte " + std::to_string(i) + " (expected " +
                   to_hex(expected.subspan(i, 1)) + ", got " + to_hex(got.subspan(i, 1)) + ")";
    return std::nullopt;
}

Outcome compare_text(std::string_view what, std::string_view expected, std::string_view got) {
    if (expected == got) return std::nullopt;
    return std::string(what) + ": expected \"" + std::string(expected) + "\", got \"" + std::string(got) + "\"";
}

// ---- mnemonic and keys -------------------------------------------------------------------------

// mnemonic.json: mnemonic_encode / mnemonic_decode (sessionjs/client test/mnemonic.test.ts).
constexpr std::string_view kPhraseKat =
    "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
constexpr std::string_view kPhraseKatSeed = "39038c8988db02c1af44e8c847bd9713";

Outcome mnemonic_known_answer() {
    auto seed = mnemonic::decode(kPhraseKat);
    if (!seed) return "decode failed: " + seed.error().message;
    if (auto d = compare("decoded seed", unhex(kPhraseKatSeed), seed->reveal())) return d;
    auto again = mnemonic::encode(*seed);
    return compare_text("encoded phrase", kPhraseKat, again.view());
}

Outcome mnemonic_round_trip() {
    DeterministicRng rng(0x5e55105e55105eull);
    for (int i = 0; i < 200; ++i) {
        mnemonic::Seed seed;
        if (i == 1) {
            for (auto& b : seed.mutable_bytes()) b = 0xff;  // every triplet overflows
        } else if (i > 1) {
            rng.fill(seed.mutable_bytes());
        }  // i == 0: all zero
        auto phrase = mnemonic::encode(seed);
        auto back = mnemonic::decode(phrase.view());
        if (!back) return "seed " + std::to_string(i) + ": decode of its own phrase failed: " + back.error().message;
        if (!back->equal_ct(seed)) return "seed " + std::to_string(i) + ": decode(encode(seed)) != seed";
    }
    return std::nullopt;
}

Outcome mnemonic_rejects() {
    // One wrong word, a wrong checksum word, and a short phrase must each be refused.
    if (auto r = mnemonic::decode(
            "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger nylon");
        r || r.error().code != Errc::mnemonic_bad_checksum)
        return std::string("a wrong checksum word was not rejected as mnemonic_bad_checksum");
    if (auto r = mnemonic::decode(
            "puffin luxury annoyed rustled memoir xqzv smidgen puddle kiwi nylon utopia zinger kiwi");
        r || r.error().code != Errc::mnemonic_unknown_word)
        return std::string("an unknown word was not rejected as mnemonic_unknown_word");
    if (auto r = mnemonic::decode("puffin luxury annoyed"); r || r.error().code != Errc::mnemonic_word_count)
        return std::string("a 3-word phrase was not rejected as mnemonic_word_count");
    return std::nullopt;
}

// mnemonic.json mnemonic_to_session_id_1..4 (sessionjs/client test/keypair.test.ts).
struct PhraseId {
    std::string_view phrase;
    std::string_view session_id;
};
constexpr PhraseId kPhraseIds[] = {
    {"session session session session session session session session session session session session session",
     "0512742fb4ac033a8a33f5776aa0e7e88f35f7af9f65dee31e57fbc7d6f8664b12"},
    {"love love love love love love love love love love love love love",
     "053db493811f729da20289e31498b8fe2b28edc90358cd3ec11a6b12ac1b9fb818"},
    {"puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi",
     "054830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69"},
    {"unknown number jukebox pledge lipstick sieve tumbling federal womanly outbreak tapestry gorilla sieve",
     "05ab0badfc19ac18f71d7bb10d5ca5c92731aa301cc483169c691cf697b83e765a"},
};

Outcome phrase_to_session_id() {
    int n = 0;
    for (const auto& v : kPhraseIds) {
        ++n;
        auto id = Identity::from_phrase(v.phrase);
        if (!id) return "vector " + std::to_string(n) + ": " + id.error().message;
        if (auto d = compare_text("vector " + std::to_string(n) + " Session ID", v.session_id, id->session_id().hex()))
            return d;
    }
    return std::nullopt;
}

Outcome key_derivation_determinism() {
    DeterministicRng rng(42);
    for (int i = 0; i < 20; ++i) {
        auto [a, phrase] = Identity::generate(rng);
        auto b = Identity::from_phrase(phrase.view());
        if (!b) return "identity " + std::to_string(i) + ": its own phrase is rejected: " + b.error().message;
        if (!(a.session_id() == b->session_id()) || !(a.ed25519_public() == b->ed25519_public()) ||
            !a.ed25519_secret().equal_ct(b->ed25519_secret()) || !a.x25519_secret().equal_ct(b->x25519_secret()))
            return "identity " + std::to_string(i) + ": keys from the phrase differ from the generated ones";
        auto x = to_x25519(a.ed25519_public());
        if (!x || !(*x == a.x25519_public()))
            return "identity " + std::to_string(i) + ": X25519 key is not the conversion of the Ed25519 key";
        auto parsed = SessionId::parse(a.session_id().hex());
        if (!parsed || !(*parsed == a.session_id()))
            return "identity " + std::to_string(i) + ": Session ID does not parse back to itself";
        const auto msg = to_bytes("selftest " + std::to_string(i));
        const auto sig = a.sign(msg);
        if (!verify(a.ed25519_public(), msg, sig)) return "identity " + std::to_string(i) + ": own signature rejected";
        auto tampered = msg;
        tampered[0] ^= 1;
        if (verify(a.ed25519_public(), tampered, sig))
            return "identity " + std::to_string(i) + ": signature verified over a changed message";
    }
    return std::nullopt;
}

Outcome session_id_rejects() {
    const std::string key(64, 'a');
    struct Bad {
        std::string text;
        Errc code;
    };
    const Bad bad[] = {
        {"03" + key, Errc::session_id_wrong_prefix}, {"15" + key, Errc::session_id_wrong_prefix},
        {"25" + key, Errc::session_id_wrong_prefix}, {"05" + key.substr(1), Errc::session_id_invalid},
        {"05" + key.substr(1) + "g", Errc::session_id_invalid}, {"", Errc::session_id_invalid},
    };
    for (const auto& b : bad) {
        auto r = SessionId::parse(b.text);
        if (r) return "accepted \"" + b.text + "\"";
        if (r.error().code != b.code) return "\"" + b.text + "\": wrong error kind: " + r.error().message;
    }
    return std::nullopt;
}

// ---- hashes and signatures -----------------------------------------------------------------------

// blake2b.json (libsession-util tests/test_hash.cpp).
Outcome blake2b_known_answers() {
    const auto msg = to_bytes("TestMessage");
    const auto key = to_bytes("TestKey");
    struct Kat {
        std::size_t size;
        bool keyed;
        std::string_view expected;
    };
    const Kat kats[] = {
        {32, false, "2a48a12262e4548afb97fe2b04a912a02297d451169ee7ef2d01a28ea20286ab"},
        {32, true, "3d643e479b626bb2907476e32ccf7bdbd1ac3efa0da6e2c335255c48dcc216b6"},
        {64, false,
         "9d9085ac026fe3542abbeb2ea2ec05f5c37aecd7695f6cc41e9ccf39014196a39c02db69c4416d5c45acc2e9469b7f274992b2858f3bb2"
         "746becb48c8b56ce4b"},
        {64, true,
         "6a2faad89cf9010a4270cba07cc96cfb36688106e080b15fef66bb03c68e877874c9059edf53d03c1330b2655efdad6e4aa259118b6ea8"
         "8698ea038efb9d52ce"},
    };
    for (const auto& k : kats) {
        auto got = detail::blake2b(k.size, msg, k.keyed ? ByteView(key) : ByteView{});
        if (auto d = compare("BLAKE2b-" + std::to_string(k.size) + (k.keyed ? " keyed" : ""), unhex(k.expected), got))
            return d;
    }
    return std::nullopt;
}

// message_hash.json: the storage server's message hash, unpadded base64 of
// BLAKE2b-32(0x05 || key32 || NS || data) with NS "" for namespace 0, else the decimal namespace
// (oxen-storage-server unit_test/service_node.cpp and oxenss/rpc/request_handler.cpp).
Outcome message_hash_known_answers() {
    const auto pubkey = unhex("05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48");
    const auto abc = to_bytes("abc 123");
    struct Kat {
        std::int32_t ns;
        std::string_view data_b64;
        std::string_view expected;
    };
    const Kat kats[] = {
        {0, "", "IMR0YySXQK/E+Zreo7uKqLcyqiJbwIB8V3U9Keu/uXU"},
        {42, "", "Xgm5Z1SLLXqlse4UAM2kEQ/y7rRFEq56iInIiqs3/40"},
        {-10, "", "0m2D2zQYz9SeaQ1oQ43XCvlBkbPmd0JbTRHwl3MzM1Y"},
        // storage_server_message_hash: a real stored 1:1 message from the storage server's tests.
        {0,
         "CAES1gIKA1BVVBIPL2FwaS92MS9tZXNzYWdlGrsCCAYovfqZv4YvQq8CVwutUBbhRzZw80TvR6uTYMKg9DSagrtpeEpY31L7VxawfS8aSya0Si"
         "Da4J025SkjP13YX8g5pxgQ8Z6hgfNArMqr/tSijJ9miVKVDJ63YWE85O8kyWF8tdtZR5j0Vxb+JH5U8Rg1bp7ftKk3OSf7JJMcrUUrDnctQHe5"
         "40zJ2OTDJ03DfubkX5NmKqEu5nhXGxeeDv3mTiL63fjtCvZYcikfjf6Nh1AX++HTgJ9SGoEIMastGUorFrmmXb2sbjHxNiJn0Radj/VzcA9VxY"
         "wBW5+AbGQ2d9+vvm7X+8vh+jIenJfjxf+8CWER+9adNfb4YUH07I+godNCV0O0J05gzqfKdT7J8MBZzFBtKrbk8oCagPpTsq/wZyYFKFKKD+q+"
         "zh704dYBILvs5yXUA96pIAA=",
         "4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs"},
    };
    for (const auto& k : kats) {
        Bytes data = abc;
        if (!k.data_b64.empty()) {
            auto decoded = base64_decode(k.data_b64);
            if (!decoded) return "compiled-in data does not decode: " + decoded.error().message;
            data = *decoded;
        }
        if (auto d = compare_text("namespace " + std::to_string(k.ns), k.expected, swarm::message_hash(pubkey, k.ns, data)))
            return d;
    }
    return std::nullopt;
}

// swarm_space.json (oxen-storage-server unit_test/swarm.cpp): the XOR of the key's four big-endian
// 64-bit words, and the closest swarm on the 2^64 ring, including the wrap-around cases.
Outcome swarm_space_known_answers() {
    struct Space {
        std::string_view pubkey;
        std::uint64_t expected;
    };
    const Space spaces[] = {
        {"053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8", 17589930838143112648ull},
        {"05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", 10370619079776428163ull}};
    for (const auto& k : spaces) {
        auto key = SessionId::parse(k.pubkey);
        if (!key) return "compiled-in key does not parse: " + key.error().message;
        const auto space = swarm::swarm_space(key->x25519());
        if (space != k.expected)
            return std::string(k.pubkey.substr(0, 10)) + "…: swarm space " + std::to_string(space) + ", expected " +
                   std::to_string(k.expected);
    }
    const std::vector<std::uint64_t> ids{100, 200, 300, 399, 498, 596, 694, 18446744073709551596ull};
    struct Closest {
        std::uint64_t space, expected;
        bool with_high;
    };
    const Closest cases[] = {{1, 100, false}, {100, 100, false}, {39, 18446744073709551596ull, true}, {41, 100, true}};
    for (const auto& c : cases) {
        std::span<const std::uint64_t> list(ids.data(), c.with_high ? ids.size() : ids.size() - 1);
        const auto got = swarm::closest_swarm(c.space, list);
        if (got != c.expected)
            return "closest swarm to " + std::to_string(c.space) + ": got " + std::to_string(got) + ", expected " +
                   std::to_string(c.expected);
    }
    return std::nullopt;
}

// storage_signatures.json retrieve_ns_0: the signed retrieve of a fixed account.
Outcome retrieve_signature_known_answer() {
    auto id = Identity::from_ed25519_seed(
        secret_hex<32>("0123456789abcdef0123456789abcdef00000000000000000000000000000000"));
    if (auto d = compare_text("account", "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",
                              id.session_id().hex()))
        return d;
    const auto text = retrieve::signature_message(0, 1700000000000);
    if (auto d = compare_text("signed text", "retrieve1700000000000", text)) return d;
    auto req = retrieve::sign_request(id, 0, 1700000000000);
    if (!req) return "sign_request failed: " + req.error().message;
    return compare_text("signature", "WyOyu+IdImmQ8OV7AdFy6O5bTGN2pn7r6UQdyVYaZIkW25BqP1rzts9nJJOT85kCiurH2eozd2DV7Mhds7fGAg==",
                        req->signature);
}

// ---- envelope --------------------------------------------------------------------------------------

// session_encrypt.json encrypt_for_recipient_deterministic_hello / decrypt_incoming_deterministic_hello
// (libsession-util tests/test_session_encrypt.cpp).
Outcome envelope_known_answer() {
    const auto sender = Identity::from_ed25519_seed(
        secret_hex<32>("0123456789abcdef0123456789abcdef00000000000000000000000000000000"));
    const auto recipient = Identity::from_ed25519_seed(
        secret_hex<32>("00112233445566778899aabbccddeeff00000000000000000000000000000000"));
    const auto expected = unhex(
        "208f96785db92319bc7a14afecc01e17bde912d17bbb32834c03ea63b1862c2a1b730e0725ef75b2f1a276db584c59a0ed9b5497bcb9f4"
        "effa893b5cb8b04dbe7a6ab457ebf972f03b006dd4572980a725399616d40184b86aa3b7b218bdc6dd7c1adccda8ef4897f0f458492240"
        "b39079c27a6c791067ab26a03067a7602b50f0434639906f93e548f909d5286edde365ebddc146");
    auto sealed = envelope::encrypt_for_recipient_deterministic(sender, recipient.x25519_public(), to_bytes("hello"));
    if (!sealed) return "deterministic encrypt failed: " + sealed.error().message;
    if (auto d = compare("deterministic ciphertext", expected, *sealed)) return d;
    auto opened = envelope::decrypt_incoming(recipient, expected);
    if (!opened) return "decrypt_incoming failed: " + opened.error().message;
    if (auto d = compare("decrypted message", to_bytes("hello"), opened->plaintext)) return d;
    if (auto d = compare_text("sender", "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",
                              opened->sender.hex()))
        return d;
    if (envelope::decrypt_incoming(sender, expected)) return "the sender could open a message sealed to the recipient";
    return std::nullopt;
}

Outcome envelope_round_trip() {
    auto alice = Identity::from_phrase(kPhraseIds[0].phrase);
    auto bob = Identity::from_phrase(kPhraseIds[1].phrase);
    if (!alice || !bob) return std::string("test identities do not derive");
    const std::string texts[] = {"", "hello", "héllo ✓ 🙂", std::string(159, 'a'), std::string(5000, 'z')};
    std::int64_t timestamp = 1'700'000'000'000;
    for (const auto& text : texts) {
        for (auto rule : {envelope::PaddingRule::current, envelope::PaddingRule::legacy}) {
            const std::string what = std::to_string(text.size()) + "-byte text, " +
                                     (rule == envelope::PaddingRule::legacy ? "legacy" : "current") + " padding";
            envelope::OutgoingMessage m;
            m.body = text;
            m.timestamp_ms = ++timestamp;
            m.display_name = "Alice";
            m.expiration_type = ExpirationType::delete_after_read;
            m.expiration_timer = std::chrono::seconds(3600);
            auto sealed = envelope::seal(*alice, bob->session_id(), envelope::build_content(m), m.timestamp_ms, rule);
            if (!sealed) return what + ": seal failed: " + sealed.error().message;
            // Through the swarm's base64 form, as a stored message travels.
            auto data = envelope::from_swarm_data(envelope::to_swarm_data(*sealed));
            if (!data) return what + ": base64 round trip failed: " + data.error().message;
            auto opened = envelope::open(*bob, *data);
            if (!opened) return what + ": open failed: " + opened.error().message;
            if (!(opened->sender == alice->session_id())) return what + ": wrong sender";
            if (opened->body != text) return what + ": body differs";
            if (opened->envelope_timestamp_ms != m.timestamp_ms || opened->sig_timestamp_ms != m.timestamp_ms)
                return what + ": timestamp differs";
            if (opened->expiration_type != ExpirationType::delete_after_read || opened->expiration_timer.count() != 3600)
                return what + ": disappearing timer differs";
            if (opened->display_name != std::optional<std::string>("Alice")) return what + ": display name differs";
            if (!opened->padded) return what + ": no padding terminator found";
            if (envelope::open(*alice, *data)) return what + ": opened by someone it was not sealed for";
            auto tampered = *data;
            // The middle lies inside the sealed box (the 64-byte proSig at the end is not authenticated:
            // it is a decoy for senders without Session Pro).
            tampered[tampered.size() / 2] ^= 0x01;
            if (envelope::open(*bob, tampered)) return what + ": a flipped ciphertext byte was accepted";
        }
    }
    return std::nullopt;
}

Outcome padding_lengths() {
    for (std::size_t len = 0; len <= 400; ++len) {
        const Bytes content(len, 0x42);
        const auto current = envelope::pad(content, envelope::PaddingRule::current);
        const auto legacy = envelope::pad(content, envelope::PaddingRule::legacy);
        // libsession pad_message: L + 1 + (160 - (L + 1) % 160); desktop BufferPadding: 160·ceil((L+2)/160) - 1.
        const std::size_t want_current = len + 1 + (160 - (len + 1) % 160);
        const std::size_t want_legacy = 160 * ((len + 2 + 159) / 160) - 1;
        if (current.size() != want_current || legacy.size() != want_legacy)
            return "content of " + std::to_string(len) + " bytes: padded to " + std::to_string(current.size()) + "/" +
                   std::to_string(legacy.size()) + ", expected " + std::to_string(want_current) + "/" +
                   std::to_string(want_legacy);
        if (envelope::unpad(current) != content || envelope::unpad(legacy) != content)
            return "content of " + std::to_string(len) + " bytes does not unpad to itself";
    }
    return std::nullopt;
}

// ---- onion -----------------------------------------------------------------------------------------

// onion_hop_encryption.json aesgcm_encrypt_fixed_iv / xchacha20_encrypt_fixed_nonce
// (oxen-storage-server unit_test/encrypt.cpp keys; derived outputs).
Outcome onion_fixed_nonce_known_answers() {
    const auto client_sk = secret_hex<32>("7d446468c186d6fb3c83365ab77a37b1f9fa3e59eb9788a40ae2e9560f196f30");
    const auto client_pk = key_hex<X25519PublicKey>("01c7391664840b2ef7126b3709dbac178ba5f3ef2335a62343d5df7da4a11c30");
    const auto server_sk = secret_hex<32>("f512f68e81a932aa2ff6d8723baa260a43a6f789d61c91b71f73e4f284e3600a");
    const auto server_pk = key_hex<X25519PublicKey>("f7b99da2e25e3c399902641c707ae20ad72b63ed0cc487730ff0b3bcecf18609");
    const auto plaintext = to_bytes("Grumpy cat says no!");
    struct Kat {
        onion::EncType t;
        std::string_view key, nonce, wire;
    };
    const Kat kats[] = {
        {onion::EncType::aes_gcm, "3bb5fc9d718d88fa673d69829e737b97b4a0e4be2915fc7ef8a5f5d0776c1e6f",
         "000000000000000000000000",
         "000000000000000000000000c2f37a30dabb3ac22344a54e7bf60c30d11de854b881248b2a0ed48a265fba60ccb9cf"},
        {onion::EncType::xchacha20, "489bc44da3522e9acd6fb1b4c6cbf42d1d2739de64466dfafa819a9f8c21c403",
         "000000000000000000000000000000000000000000000000",
         "000000000000000000000000000000000000000000000000dcd74173596f94126bc03470b9d51cf97817f93a57013690bf29af2c4fb3"
         "3e101acf95"},
    };
    for (const auto& k : kats) {
        const std::string name(onion::to_string(k.t));
        auto ck = onion::client_key(k.t, client_sk, client_pk, server_pk);
        if (!ck) return name + ": client key: " + ck.error().message;
        if (auto d = compare(name + " client key", unhex(k.key), ck->reveal())) return d;
        auto wire = onion::encrypt_with_nonce(k.t, *ck, unhex(k.nonce), plaintext);
        if (!wire) return name + ": encrypt: " + wire.error().message;
        if (auto d = compare(name + " wire", unhex(k.wire), *wire)) return d;
        auto sk = onion::server_key(k.t, server_sk, server_pk, client_pk);
        if (!sk) return name + ": server key: " + sk.error().message;
        auto back = onion::decrypt(k.t, *sk, *wire);
        if (!back) return name + ": server decrypt: " + back.error().message;
        if (auto d = compare(name + " decrypted", plaintext, *back)) return d;
        auto tampered = *wire;
        tampered.back() ^= 1;
        if (onion::decrypt(k.t, *sk, tampered)) return name + ": a flipped tag byte still decrypted";
    }
    return std::nullopt;
}

// A node of the test path: its identity gives both keys, as a real snode's do.
struct TestNode {
    Identity id;
    onion::NodeKeys keys() const { return {id.ed25519_public(), id.x25519_public()}; }
};

Outcome onion_round_trip(onion::EncType t) {
    const std::string name(onion::to_string(t));
    std::vector<TestNode> nodes;  // guard, relay, relay, destination
    for (std::uint8_t i = 0; i < 4; ++i) {
        ByteArray<32> seed{};
        seed.fill(static_cast<std::uint8_t>(0xa0 + i));
        nodes.push_back({Identity::from_ed25519_seed(Secret<32>(std::span<const std::uint8_t, 32>(seed)))});
    }
    const std::vector<onion::NodeKeys> path{nodes[0].keys(), nodes[1].keys(), nodes[2].keys()};
    const std::string payload = R"({"method":"info","params":{}})";
    DeterministicRng rng(7);
    auto request = onion::build(path, onion::SnodeDestination{nodes[3].keys()}, as_bytes(payload), t, rng);
    if (!request) return name + ": build: " + request.error().message;

    auto entry = onion::parse_entry(request->body);
    if (!entry) return name + ": guard cannot parse the entry request: " + entry.error().message;
    Bytes ciphertext(entry->ciphertext.begin(), entry->ciphertext.end());
    X25519PublicKey ephemeral = entry->info.ephemeral_key;
    onion::EncType layer_type = entry->info.enc_type;
    for (std::size_t hop = 0; hop < nodes.size(); ++hop) {
        const auto& node = nodes[hop].id;
        const std::string where = name + " hop " + std::to_string(hop + 1);
        if (layer_type != t) return where + ": layer enc type differs from the requested one";
        auto peeled = onion::decrypt_layer(layer_type, node.x25519_secret(), node.x25519_public(), ephemeral, ciphertext);
        if (!peeled) return where + ": decrypt: " + peeled.error().message;
        auto layer = onion::classify_layer(peeled->plaintext);
        if (!layer) return where + ": parse: " + layer.error().message;
        if (hop + 1 < nodes.size()) {
            auto* relay = std::get_if<onion::RelayToNode>(&*layer);
            if (!relay) return where + ": expected a relay to the next node";
            if (!(relay->destination == nodes[hop + 1].id.ed25519_public()))
                return where + ": relays to the wrong node";
            ciphertext = relay->ciphertext;
            ephemeral = relay->ephemeral_key;
            layer_type = relay->enc_type;
            continue;
        }
        auto* final_hop = std::get_if<onion::FinalDestination>(&*layer);
        if (!final_hop) return where + ": the destination's layer is not final";
        if (auto d = compare(where + " payload", as_bytes(payload), final_hop->body)) return d;
        // The destination answers; only the client's response key can read it.
        const std::string reply = R"({"status":200,"body":"{\"version\":[2,11,0]}"})";
        auto sealed = onion::encrypt_reply(layer_type, peeled->reply_key, as_bytes(reply), rng);
        if (!sealed) return where + ": encrypt reply: " + sealed.error().message;
        auto decoded = onion::decode_node_response(request->response_key, base64_encode(*sealed));
        if (!decoded) return name + ": client cannot decode the reply: " + decoded.error().message;
        if (decoded->status != 200) return name + ": reply status " + std::to_string(decoded->status) + ", expected 200";
        if (auto d = compare_text(name + " reply body", R"({"version":[2,11,0]})", decoded->body)) return d;
        auto tampered = *sealed;
        tampered[tampered.size() / 2] ^= 0x40;
        if (onion::decode_node_response(request->response_key, base64_encode(tampered)))
            return name + ": a tampered reply was accepted";
    }
    return std::nullopt;
}

}  // namespace

std::vector<Check> all_checks() {
    return {
        {"mnemonic known answer (encode and decode)", mnemonic_known_answer},
        {"mnemonic round trip (200 seeds)", mnemonic_round_trip},
        {"mnemonic rejects a bad checksum, an unknown word, a short phrase", mnemonic_rejects},
        {"phrase -> Session ID known answers (4 phrases)", phrase_to_session_id},
        {"key derivation determinism, X25519 conversion, signatures (20 identities)", key_derivation_determinism},
        {"Session ID parser rejects 03/15/25 prefixes, bad length, bad hex", session_id_rejects},
        {"BLAKE2b known answers (32/64 bytes, keyed/unkeyed)", blake2b_known_answers},
        {"storage message hash known answers (namespaces 0, 42, -10; a stored message)", message_hash_known_answers},
        {"swarm space and closest swarm known answers", swarm_space_known_answers},
        {"retrieve request signature known answer", retrieve_signature_known_answer},
        {"envelope known answer (deterministic seal, decrypt_incoming)", envelope_known_answer},
        {"envelope build -> seal -> open -> verify -> parse (5 texts x 2 paddings)", envelope_round_trip},
        {"padding lengths, both rules (content 0..400 bytes)", padding_lengths},
        {"onion hop encryption fixed-IV known answers (aes-gcm, xchacha20)", onion_fixed_nonce_known_answers},
        {"onion build -> peel 4 layers -> reply round trip (xchacha20)",
         [] { return onion_round_trip(onion::EncType::xchacha20); }},
        {"onion build -> peel 4 layers -> reply round trip (aes-gcm)",
         [] { return onion_round_trip(onion::EncType::aes_gcm); }},
    };
}

}  // namespace session::selftest

// fuzz_localnet_rpc.cpp: the local network's request handling, in process and without sockets.
// The entry points are Network::Impl::handle_client_body (a /storage_rpc/v1 body, also reached as
// an onion destination) and Network::Impl::handle_onion_entry (a /onion_req/v2 body), both declared
// in tools/localnet/internal.hpp. The harness builds an Impl by hand with two nodes, each its own
// one-member swarm (so no replication threads and both 200 and 421 paths), in-memory SQLite and a
// fixed clock. The first input byte picks the mode:
//   0  the bytes as a storage_rpc JSON body at node 0                     -> handle_client_body
//   1  the bytes as an onion entry body at node 0                         -> handle_onion_entry
//   2  the bytes as the JSON-RPC payload of an onion request that OUR client builds through node 1
//      to node 0 -> handle_onion_entry at node 1; a 200 reply must decode with our client's
//      decode_node_response (the two ends agree on the wire format)
//   3  the bytes as a decrypted layer for node 0 (encrypted by the harness) -> handle_onion_entry,
//      i.e. the node's layer classification and relaying. Inputs naming "host" (or using \u
//      escapes) are skipped: the node would proxy to a loopback HTTP server, and a fuzzer must not
//      touch other processes' ports.
// Property: no crash, no sanitizer report, no exception escaping, a status in 100..599.
// Seeds: fuzz/corpus/localnet_rpc/.
// fuzz-requires: localnet onion
#include <sodium.h>

#include <array>
#include <cstring>

#include "fuzz_common.hpp"
#include "detail/onion_node.hpp"
#include "localnet/internal.hpp"
#include "session/onion.hpp"

namespace {
namespace ln = session::localnet;
namespace onion = session::onion;
using session::Bytes;
using session::ByteView;

class FixedClock final : public session::Clock {
public:
    std::int64_t now_ms() const override { return 1764286000000; }
};

struct Fixture {
    ln::Network::Impl impl;
    Fixture() {
        impl.opt.node_count = 2;
        impl.opt.swarm_size = 1;
        impl.opt.relay_timeout = std::chrono::milliseconds(0);
        impl.opt.peer_timeout = std::chrono::milliseconds(0);
        impl.clock = std::make_shared<FixedClock>();
        const std::uint64_t swarms[2] = {0x2000000000000000ULL, 0xa000000000000000ULL};
        for (std::size_t i = 0; i < 2; ++i) {
            auto n = std::make_unique<ln::detail::Node>();
            n->index = i;
            n->ip = "127.0.0." + std::to_string(i + 2);
            std::array<std::uint8_t, 32> seed{};
            seed.fill(static_cast<std::uint8_t>(0x60 + i));
            session::ByteArray<64> sk{};
            crypto_sign_seed_keypair(n->ed_pk.data(), sk.data(), seed.data());
            n->ed_sk = session::Secret<64>(std::span<const std::uint8_t, 64>(sk));
            session::ByteArray<32> xsk{};
            crypto_sign_ed25519_sk_to_curve25519(xsk.data(), sk.data());
            n->x_sk = session::Secret<32>(std::span<const std::uint8_t, 32>(xsk));
            FUZZ_CHECK(crypto_sign_ed25519_pk_to_curve25519(n->x_pk.data(), n->ed_pk.data()) == 0, "node key");
            n->ed_hex = session::to_hex(n->ed_pk);
            n->x_hex = session::to_hex(n->x_pk);
            n->swarm_id = swarms[i];
            n->store = std::make_unique<ln::detail::MessageStore>(std::string());
            n->running = true;
            impl.nodes.push_back(std::move(n));
            impl.swarm_ids.push_back(swarms[i]);
        }
    }
    ln::detail::Node& node(std::size_t i) { return *impl.nodes[i]; }
    onion::NodeKeys keys(std::size_t i) {
        onion::NodeKeys k;
        k.ed25519.bytes = impl.nodes[i]->ed_pk;
        k.x25519.bytes = impl.nodes[i]->x_pk;
        return k;
    }
};

Fixture& fixture() {
    static Fixture* f = new Fixture();  // never destroyed: threads of other tests may not exist here
    return *f;
}

void check(const ln::detail::Reply& r) {
    FUZZ_CHECK(r.status >= 100 && r.status <= 599, "localnet reply status outside 100..599");
    (void)r.body_text();
}

bool names_a_host(ByteView b) {
    const std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
    return s.find("host") != std::string_view::npos || s.find("\\u") != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (sodium_init() < 0) std::abort();
    (void)fixture();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    auto& f = fixture();
    const int mode = data[0] % 4;
    const ByteView rest(data + 1, size - 1);
    const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
    try {
        switch (mode) {
            case 0:
                check(f.impl.handle_client_body(f.node(0), text, ln::Network::Impl::Origin::client));
                break;
            case 1:
                check(f.impl.handle_onion_entry(f.node(0), text));
                break;
            case 2: {
                fuzz::FuzzRng rng(size);
                const onion::NodeKeys path[1] = {f.keys(1)};
                const auto t = (data[0] & 4) ? onion::EncType::aes_gcm : onion::EncType::xchacha20;
                auto req = onion::build(path, onion::SnodeDestination{f.keys(0)}, rest, t, rng);
                if (!req) {
                    FUZZ_CHECK(req.error().code == session::Errc::onion_too_large, "onion::build failed");
                    break;
                }
                const std::string body(req->body.begin(), req->body.end());
                auto reply = f.impl.handle_onion_entry(f.node(1), body);
                check(reply);
                if (reply.status == 200) {
                    auto decoded = onion::decode_node_response(req->response_key, reply.body_text());
                    FUZZ_CHECK(decoded.has_value(), "our client cannot decode the local network's onion reply");
                }
                break;
            }
            case 3: {
                if (names_a_host(rest)) break;
                fuzz::FuzzRng rng(size);
                auto eph = onion::generate_x25519(rng);
                session::X25519PublicKey node_x;
                node_x.bytes = f.node(0).x_pk;
                auto key = onion::client_key(onion::EncType::xchacha20, eph.secret, eph.public_key, node_x);
                FUZZ_CHECK(key.has_value(), "client_key");
                auto ct = onion::encrypt(onion::EncType::xchacha20, *key, rest, rng);
                FUZZ_CHECK(ct.has_value(), "encrypt");
                const std::string trailer = "{\"ephemeral_key\":\"" + session::to_hex(eph.public_key.view()) +
                                            "\",\"enc_type\":\"xchacha20\"}";
                auto body = onion::encode_combined(*ct, trailer);
                FUZZ_CHECK(body.has_value(), "encode_combined");
                check(f.impl.handle_onion_entry(f.node(0), session::to_string(*body)));
                break;
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "exception escaped the localnet handler: %s\n", e.what());
        std::abort();
    }
    return 0;
}

#pragma once
// Shared fixture for tests/localnet/test_network_*.cpp: an in-process local network (real HTTPS on
// loopback, onion relays, swarms, faults, counters) and a session::network::Network configured from
// its network file with short timeouts. The start, the request counters and REQUIRE_OK are
// localnet_fixture.hpp's, shared with the Client's tests.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "localnet_fixture.hpp"
#include "session/keys.hpp"
#include "session/network.hpp"

namespace nettest {

using nlohmann::json;
using namespace session;
using session::test::Requests;
using session::test::why;

struct LocalNet : test::LocalNetBase {
    network::NetworkConfig config;

    /// `key_seed` != 0: node keys and swarm ids derived from it (the same network on every run).
    explicit LocalNet(std::size_t nodes = 10, std::size_t seeds = 3, std::size_t swarm_size = 5,
                      std::uint64_t key_seed = 0)
        : LocalNetBase(options(nodes, seeds, swarm_size, key_seed)) {
        auto c = network::NetworkConfig::from_json(net->network_file().dump());
        if (!c) FAIL("network file: " << c.error().message);
        config = std::move(*c);
        config.bootstrap_nodes.clear();  // tests of seed failure want the seeds only
        config.seed_timeout = std::chrono::milliseconds(2000);
        config.request_timeout = std::chrono::milliseconds(3000);
        config.retrieve_timeout = std::chrono::milliseconds(3000);
        config.connect_timeout = std::chrono::milliseconds(1000);
        config.retry_base_delay = std::chrono::milliseconds(20);
        config.retry_max_delay = std::chrono::milliseconds(200);
    }

    std::unique_ptr<network::Network> client(network::LogFn log = {}) const {
        network::Options o;
        o.config = config;
        o.log = std::move(log);
        return std::make_unique<network::Network>(std::move(o));
    }

    std::size_t index_of(const network::Snode& n) const { return net->node_index(n.ed25519_hex()); }

private:
    static localnet::Options options(std::size_t nodes, std::size_t seeds, std::size_t swarm_size,
                                     std::uint64_t key_seed) {
        auto o = test::localnet_options(nodes, swarm_size);
        o.seed_count = seeds;
        o.key_seed = key_seed;
        o.relay_timeout = std::chrono::milliseconds(1000);
        o.peer_timeout = std::chrono::milliseconds(500);
        o.hang_time = std::chrono::milliseconds(2500);
        return o;
    }
};

inline Identity new_identity() { return Identity::generate(*system_rng()).first; }

inline std::string b64(std::string_view s) { return base64_encode(as_bytes(s)); }

/// Signed retrieve params for namespace 0 (storage-server.md §4.5: "retrieve" || timestamp).
inline network::ParamsBuilder retrieve_params(const Identity& id, std::string last_hash = {}) {
    return [&id, last_hash](std::int64_t now) -> Result<std::string> {
        const std::string msg = "retrieve" + std::to_string(now);
        auto sig = id.sign(as_bytes(msg));
        json p = {{"pubkey", id.session_id().hex()},
                  {"pubkey_ed25519", to_hex(id.ed25519_public().bytes)},
                  {"timestamp", now},
                  {"signature", base64_encode(sig)}};
        if (!last_hash.empty()) p["last_hash"] = last_hash;
        return p.dump();
    };
}

/// The hashes of a retrieve result.
inline std::vector<std::string> hashes_of(const std::string& result) {
    std::vector<std::string> out;
    const json j = json::parse(result);  // named: a temporary would die before the loop body
    for (const auto& m : j.at("messages")) out.push_back(m.at("hash").get<std::string>());
    return out;
}

inline constexpr std::int64_t kDay = 86'400'000;

}  // namespace nettest

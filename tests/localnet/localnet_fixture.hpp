#pragma once
// What the localnet test fixtures share (test_client_support.hpp for the Client's tests,
// test_network_support.hpp for the Network's): one in-process local network per test case (fresh
// counters and stores), the requests it served, and a REQUIRE that shows a Result's error message.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "localnet/localnet.hpp"
#include "session/error.hpp"

namespace session::test {

/// Requests the local network served since it started: seed JSON-RPC, onion entries (as counted by
/// the guards; a refused connection is not one), direct /storage_rpc/v1 RPCs.
struct Requests {
    std::uint64_t seed = 0, onion = 0, direct = 0;
    std::uint64_t total() const { return seed + onion + direct; }
};

/// Options for `nodes` nodes in swarms of `swarm_size`, without the HTTP control endpoint (tests
/// drive faults through the class).
inline localnet::Options localnet_options(std::size_t nodes, std::size_t swarm_size) {
    localnet::Options o;
    o.node_count = nodes;
    o.swarm_size = swarm_size;
    o.control_endpoint = false;
    return o;
}

/// A started local network and its request counters. The test case FAILs if it cannot start.
struct LocalNetBase {
    std::unique_ptr<localnet::Network> net;

    explicit LocalNetBase(const localnet::Options& o) {
        auto started = localnet::Network::start(o);
        if (!started) FAIL("localnet: " << started.error().message);
        net = std::move(*started);
    }

    Requests requests() const {
        Requests r;
        for (std::size_t k = 0; k < net->seed_count(); ++k) r.seed += net->seed_counters(k).http_requests;
        auto t = net->total_counters();
        r.onion = t.onion_requests;
        if (auto it = t.endpoints.find("/storage_rpc/v1"); it != t.endpoints.end()) r.direct = it->second;
        return r;
    }
    /// RPCs of method `m` answered by the nodes (inside onion requests and batches too).
    std::uint64_t method_count(const std::string& m) const {
        auto t = net->total_counters();
        auto it = t.methods.find(m);
        return it == t.methods.end() ? 0 : it->second;
    }
};

template <class T>
std::string why(const Result<T>& r) {
    return r ? std::string() : r.error().message;
}

}  // namespace session::test

// Evaluates `x` once (it may be a network call) and shows the error message when it fails.
#define REQUIRE_OK(x)                             \
    do {                                          \
        auto&& require_ok_r_ = (x);               \
        INFO(::session::test::why(require_ok_r_)); \
        REQUIRE(require_ok_r_);                   \
    } while (0)

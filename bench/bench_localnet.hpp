#pragma once
// bench_localnet.hpp: the in-process local network (tools/localnet) that the end-to-end benchmarks
// run against, with a per-hop latency on every storage node, and a network file for clients.
// Environment: E2E_HOP_LATENCY_MS (20), E2E_NODES (10), E2E_SWARM_SIZE (5).
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "bench_common.hpp"
#include "localnet/localnet.hpp"
#include "session/network.hpp"

namespace bench {

/// A size from the environment; `fallback` when unset or empty.
inline std::size_t env_size(const char* name, std::size_t fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    return static_cast<std::size_t>(std::strtoull(v, nullptr, 10));
}

class LocalNet {
public:
    /// Starts the network; its file goes to a temporary directory named after `tag` and this process.
    explicit LocalNet(const std::string& tag) {
        session::localnet::Options o;
        o.node_count = env_size("E2E_NODES", 10);
        o.swarm_size = env_size("E2E_SWARM_SIZE", 5);
        o.control_endpoint = false;
        net = std::move(*must(session::localnet::Network::start(o), "localnet start"));
        dir = std::filesystem::temp_directory_path() / ("session-bench-" + tag + "-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        file = (dir / "network.json").string();
        must(net->write_network_file(file), "write network file");
        set_latency(latency);
    }
    ~LocalNet() {
        net.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    LocalNet(const LocalNet&) = delete;
    LocalNet& operator=(const LocalNet&) = delete;

    void set_latency(std::chrono::milliseconds ms) {
        for (std::size_t i = 0; i < net->node_count(); ++i) net->set_latency(i, ms);
    }
    /// A new Network on the local network (each bench client its own, as one per process).
    std::shared_ptr<session::network::Network> network() const {
        session::network::Options o;
        o.config = *must(session::network::NetworkConfig::from_file(file), "network file");
        return std::make_shared<session::network::Network>(std::move(o));
    }

    std::unique_ptr<session::localnet::Network> net;
    std::filesystem::path dir;  // temporary, removed at the end: the network file, and a benchmark's files
    std::string file;           // the network file
    const std::chrono::milliseconds latency{env_size("E2E_HOP_LATENCY_MS", 20)};
};

}  // namespace bench

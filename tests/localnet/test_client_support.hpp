#pragma once
// Shared by the Client's localnet tests: one in-process local network per test case (fresh counters
// and stores) with its network file on disk, and a REQUIRE that shows a Result's error message.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "localnet/localnet.hpp"
#include "session/error.hpp"

namespace session::test {

struct LocalNetFile {
    std::unique_ptr<localnet::Network> net;
    std::filesystem::path dir;
    std::string file;

    /// `short_timeouts` makes relays, peers and hung requests give up within seconds, so fault
    /// tests finish quickly; the examples test keeps the local network's defaults.
    explicit LocalNetFile(std::size_t nodes = 10, std::size_t swarm_size = 5, bool short_timeouts = true) {
        localnet::Options o;
        o.node_count = nodes;
        o.swarm_size = swarm_size;
        o.control_endpoint = false;
        if (short_timeouts) {
            o.relay_timeout = std::chrono::milliseconds(3000);
            o.peer_timeout = std::chrono::milliseconds(1000);
            o.hang_time = std::chrono::milliseconds(3000);
        }
        auto started = localnet::Network::start(o);
        if (!started) FAIL("localnet: " << started.error().message);
        net = std::move(*started);
        dir = std::filesystem::temp_directory_path() /
              ("session-client-test-" + std::to_string(::getpid()) + "-" +
               std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        std::filesystem::create_directories(dir);
        file = (dir / "network.json").string();
        auto w = net->write_network_file(file);
        if (!w) FAIL("localnet: " << w.error().message);
    }
    ~LocalNetFile() {
        net.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    LocalNetFile(const LocalNetFile&) = delete;
    LocalNetFile& operator=(const LocalNetFile&) = delete;
};

template <class T>
std::string why(const Result<T>& r) {
    return r ? std::string() : r.error().message;
}

}  // namespace session::test

// For a Result held in a variable: shows the error message when it fails.
#define REQUIRE_OK(x)                   \
    do {                                \
        INFO(::session::test::why(x));  \
        REQUIRE(x);                     \
    } while (0)

#pragma once
// Shared by the Client's localnet tests: one in-process local network per test case (fresh counters
// and stores) with its network file on disk. The start, the request counters and REQUIRE_OK are
// localnet_fixture.hpp's, shared with the Network's tests.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "localnet_fixture.hpp"

namespace session::test {

struct LocalNetFile : LocalNetBase {
    std::filesystem::path dir;
    std::string file;

    /// `short_timeouts` makes relays, peers and hung requests give up within seconds, so fault
    /// tests finish quickly; the examples test keeps the local network's defaults.
    explicit LocalNetFile(std::size_t nodes = 10, std::size_t swarm_size = 5, bool short_timeouts = true)
        : LocalNetBase(options(nodes, swarm_size, short_timeouts)) {
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

private:
    static localnet::Options options(std::size_t nodes, std::size_t swarm_size, bool short_timeouts) {
        auto o = localnet_options(nodes, swarm_size);
        if (short_timeouts) {
            o.relay_timeout = std::chrono::milliseconds(3000);
            o.peer_timeout = std::chrono::milliseconds(1000);
            o.hang_time = std::chrono::milliseconds(3000);
        }
        return o;
    }
};

}  // namespace session::test

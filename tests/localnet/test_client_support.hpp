#pragma once
// Shared by the Client's localnet tests: one in-process local network per test case (fresh counters
// and stores) with its network file on disk. The start, the request counters and REQUIRE_OK are
// localnet_fixture.hpp's, shared with the Network's tests.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "session/keys.hpp"
#include "session/network.hpp"
#include "session/rng.hpp"

#include "localnet_fixture.hpp"

namespace session::test {

/// Network settings the Client tests vary (the rest are the network file's and the defaults).
struct NetSettings {
    std::chrono::milliseconds request_timeout{25'000};
    std::chrono::milliseconds retrieve_timeout{10'000};
    std::chrono::milliseconds connect_timeout{5'000};
    network::LogFn log{};
};

/// A new Network on the local network described by `file` (each Client gets its own, as an
/// application with one Client per process has).
inline std::shared_ptr<network::Network> network_on(const std::string& file, const NetSettings& s = {}) {
    auto config = network::NetworkConfig::from_file(file);
    if (!config) FAIL("network file: " << config.error().message);
    config->request_timeout = s.request_timeout;
    config->retrieve_timeout = s.retrieve_timeout;
    config->connect_timeout = s.connect_timeout;
    network::Options o;
    o.config = std::move(*config);
    o.log = s.log;
    return std::make_shared<network::Network>(std::move(o));
}

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

    /// A new Network on this local network (see network_on).
    std::shared_ptr<network::Network> network(const NetSettings& s = {}) const { return network_on(file, s); }
    /// A Network for one Client of a test: requests give up after 8 s, so a lost answer fails the
    /// test quickly instead of at the library's default timeouts.
    std::shared_ptr<network::Network> client_net() const {
        return network({.request_timeout = std::chrono::milliseconds(8000),
                        .retrieve_timeout = std::chrono::milliseconds(8000)});
    }

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

/// An account kept as its recovery phrase, so several Clients (or processes) can open it: an
/// Identity is not copyable.
struct Account {
    SecretBuffer phrase;
    SessionId id;
    Identity identity() const {
        auto i = Identity::from_phrase(phrase.view());
        if (!i) FAIL("phrase: " << i.error().message);
        return std::move(*i);
    }
    SessionId session_id() const { return id; }
};
inline Account new_account() {
    auto [identity, phrase] = Identity::generate(*system_rng());
    return Account{std::move(phrase), identity.session_id()};
}

}  // namespace session::test

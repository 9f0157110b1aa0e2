// config.cpp: NetworkConfig: the pinned mainnet seeds, and a local network's file (see network.hpp).
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "detail/file_read.hpp"
#include "detail/json_limited.hpp"
#include "network/parse.hpp"
#include "network/seeds.hpp"
#include "session/network.hpp"

namespace session::network {

namespace {
// A network file lists nodes (a few hundred bytes each): 16 MiB is far above any real one.
constexpr std::uint64_t kMaxNetworkFileBytes = 16 * 1024 * 1024;
}  // namespace

using nlohmann::json;

NetworkConfig NetworkConfig::mainnet() {
    NetworkConfig c;
    c.name = "mainnet";
    for (const auto& s : detail::mainnet_seeds()) {
        SeedNode seed;
        seed.url = std::string(s.url);
        seed.tls.verify = true;
        seed.tls.ca_pem = std::string(s.cert_pem);
        seed.tls.pinned_public_key = std::string(s.pinned_public_key);
        auto fp = from_hex_array<32>(s.cert_sha256_hex);
        if (!fp) throw std::logic_error("network: bad built-in seed fingerprint");
        seed.tls.cert_sha256 = *fp;
        c.seeds.push_back(std::move(seed));
    }
    // protocol.md §6: filev2.getsession.org over plain HTTP (the payload is onion-encrypted to its
    // key). Desktop's key (X25519 of the Ed25519 key below), and libsession's older one.
    FileServerConfig fs;
    fs.url = "http://filev2.getsession.org";
    auto x = from_hex_array<32>("09324794aa9c11948189762d198c618148e9136ac9582068180661208927ef34");
    auto ed = from_hex_array<32>("b8eef9821445ae16e2e97ef8aa6fe782fd11ad5253cd6723b281341dba22e371");
    auto old_x = from_hex_array<32>("da21e1d886c6fbaea313f75298bd64aab03a97ce985b46bb2dad9f2089c8ee59");
    if (!x || !ed || !old_x) throw std::logic_error("network: bad built-in file server key");
    fs.x25519.bytes = *x;
    fs.ed25519 = Ed25519PublicKey{*ed};
    fs.other_x25519.push_back(X25519PublicKey{*old_x});
    c.file_server = std::move(fs);
    return c;
}

Result<NetworkConfig> NetworkConfig::from_json(std::string_view text) {
    auto parsed = session::detail::parse_limited(text, Errc::net_config, "network: network file");
    if (!parsed) return unexpected(std::move(parsed).error());
    const json& j = *parsed;
    if (!j.is_object()) return unexpected(Errc::net_config, "network: network file: expected a JSON object");
    NetworkConfig c;
    c.name = "localnet";
    if (auto n = j.find("name"); n != j.end()) {
        if (!n->is_string()) return unexpected(Errc::net_config, "network: network file: 'name': expected a string");
        c.name = n->get<std::string>();
    }
    std::string ca;
    if (auto it = j.find("ca_pem"); it != j.end() && !it->is_null()) {
        if (!it->is_string() || it->get<std::string>().find("-----BEGIN CERTIFICATE-----") == std::string::npos)
            return unexpected(Errc::net_config, "network: network file: 'ca_pem': expected a PEM certificate");
        ca = it->get<std::string>();
    }
    auto seeds = j.find("seeds");
    if (seeds == j.end() || !seeds->is_array())
        return unexpected(Errc::net_config, "network: network file: 'seeds': expected an array of URLs");
    std::size_t i = 0;
    for (const auto& s : *seeds) {
        if (!s.is_string())
            return unexpected(Errc::net_config, "network: network file: seeds[" + std::to_string(i) + "]: expected a string");
        std::string url = s.get<std::string>();
        bool https = url.rfind("https://", 0) == 0;
        if (!https && url.rfind("http://", 0) != 0)
            return unexpected(Errc::net_config, "network: network file: seeds[" + std::to_string(i) + "]: expected an http(s) URL");
        while (!url.empty() && url.back() == '/') url.pop_back();
        if (url.size() > 9 && url.substr(url.size() - 9) == "/json_rpc") url.resize(url.size() - 9);
        if (https && ca.empty())
            return unexpected(Errc::net_config, "network: network file: 'ca_pem' is required for https seeds");
        SeedNode seed;
        seed.url = url;
        seed.tls.verify = https;  // chain + host/IP against the network's CA only
        seed.tls.ca_pem = ca;
        c.seeds.push_back(std::move(seed));
        ++i;
    }
    if (c.seeds.empty()) return unexpected(Errc::net_config, "network: network file: 'seeds' is empty");
    if (auto fs = j.find("file_server"); fs != j.end() && !fs->is_null()) {
        const std::string where = "network: network file: 'file_server': ";
        if (!fs->is_object()) return unexpected(Errc::net_config, where + "expected an object");
        auto url = fs->find("url");
        auto x = fs->find("pubkey_x25519");
        if (url == fs->end() || !url->is_string() || x == fs->end() || !x->is_string())
            return unexpected(Errc::net_config, where + "expected 'url' and 'pubkey_x25519' strings");
        FileServerConfig f;
        f.url = url->get<std::string>();
        while (!f.url.empty() && f.url.back() == '/') f.url.pop_back();
        if (f.url.rfind("http://", 0) != 0 && f.url.rfind("https://", 0) != 0)
            return unexpected(Errc::net_config, where + "'url': expected an http(s) URL");
        auto xk = from_hex_array<32>(x->get<std::string>());
        if (!xk) return unexpected(Errc::net_config, where + "'pubkey_x25519': expected 64 hex digits");
        f.x25519.bytes = *xk;
        if (auto ed = fs->find("pubkey_ed25519"); ed != fs->end() && !ed->is_null()) {
            auto ek = ed->is_string() ? from_hex_array<32>(ed->get<std::string>()) : Result<ByteArray<32>>(unexpected(Errc::hex_invalid, ""));
            if (!ek) return unexpected(Errc::net_config, where + "'pubkey_ed25519': expected 64 hex digits");
            f.ed25519 = Ed25519PublicKey{*ek};
        }
        c.file_server = std::move(f);
    }
    if (auto nodes = j.find("nodes"); nodes != j.end() && !nodes->is_null()) {
        if (!nodes->is_array()) return unexpected(Errc::net_config, "network: network file: 'nodes': expected an array");
        std::size_t k = 0;
        for (const auto& n : *nodes) {
            auto node = detail::parse_node(n, Errc::net_config);
            if (!node) return unexpected(Errc::net_config, node.error().message + " (nodes[" + std::to_string(k) + "])");
            if (detail::node_usable(*node)) c.bootstrap_nodes.push_back(std::move(*node));
            ++k;
        }
    }
    return c;
}

Result<NetworkConfig> NetworkConfig::from_file(const std::string& path) {
    auto text = session::detail::read_file(path, {kMaxNetworkFileBytes}, "network file");
    if (!text) return unexpected(std::move(text).error());
    auto c = from_json(*text);
    if (!c) return unexpected(c.error().code, c.error().message + " (" + path + ")");
    return c;
}

Result<void> NetworkConfig::validate() const {
    // A timeout of 0 means "never" to libcurl, and a negative one is nonsense: both are refused, and
    // so is one over kMaxTimeout (a wait a node could otherwise stretch without bound).
    auto positive = [](const char* name, std::chrono::milliseconds v) -> Result<void> {
        if (v.count() <= 0)
            return unexpected(Errc::net_config, std::string("network: config: ") + name + ": expected more than 0 ms, got " +
                                                    std::to_string(v.count()) + " ms");
        if (v > kMaxTimeout)
            return unexpected(Errc::net_config, std::string("network: config: ") + name + ": expected at most " +
                                                    std::to_string(kMaxTimeout.count()) + " ms, got " +
                                                    std::to_string(v.count()) + " ms");
        return {};
    };
    for (auto [name, v] : {std::pair{"seed_timeout", seed_timeout}, std::pair{"connect_timeout", connect_timeout},
                           std::pair{"request_timeout", request_timeout}, std::pair{"retrieve_timeout", retrieve_timeout},
                           std::pair{"retry_base_delay", retry_base_delay}, std::pair{"retry_max_delay", retry_max_delay}})
        if (auto ok = positive(name, v); !ok) return ok;
    if (seed_stagger.count() < 0 || seed_stagger > kMaxTimeout)
        return unexpected(Errc::net_config, "network: config: seed_stagger: expected 0 to " + std::to_string(kMaxTimeout.count()) +
                                                " ms, got " + std::to_string(seed_stagger.count()) + " ms");
    if (pool_refresh_interval.count() < 0 || swarm_cache_ttl.count() < 0)
        return unexpected(Errc::net_config, "network: config: pool_refresh_interval and swarm_cache_ttl: expected >= 0");
    for (auto [name, v] : {std::pair{"path_length", path_length}, std::pair{"path_count", path_count},
                           std::pair{"max_attempts", max_attempts}, std::pair{"strike_threshold", strike_threshold}})
        if (v == 0) return unexpected(Errc::net_config, std::string("network: config: ") + name + ": expected at least 1, got 0");
    return {};
}

}  // namespace session::network

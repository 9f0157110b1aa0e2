// paths.cpp: onion path selection rules (see paths.hpp).
#include "network/paths.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace session::network::detail {

std::string diversity_key(const std::string& ip) {
    if (ip.rfind("127.", 0) == 0) return ip;  // loopback: a local network gives each node its own IP
    auto last = ip.rfind('.');
    return last == std::string::npos ? ip : ip.substr(0, last);
}

namespace {
bool contains_key(std::span<const Snode> nodes, const Snode& n) {
    return std::any_of(nodes.begin(), nodes.end(), [&](const Snode& o) { return o.keys.ed25519 == n.keys.ed25519; });
}
}  // namespace

bool path_touches(std::span<const Snode> path, const Snode& node) {
    const std::string k = diversity_key(node.ip);
    return std::any_of(path.begin(), path.end(), [&](const Snode& o) {
        return o.keys.ed25519 == node.keys.ed25519 || diversity_key(o.ip) == k;
    });
}

std::size_t suspicion(std::span<const Snode> suspects, const Snode& node) {
    return static_cast<std::size_t>(std::count_if(suspects.begin(), suspects.end(), [&](const Snode& s) {
        return s.keys.ed25519 == node.keys.ed25519;
    }));
}

std::optional<std::vector<Snode>> pick_path(std::span<const Snode> candidates, std::size_t length,
                                            std::span<const Snode> exclude, std::span<const Snode> avoid, Rng& rng,
                                            std::span<const Snode> suspects) {
    if (length == 0) return std::vector<Snode>{};
    std::set<std::string> banned;
    for (const auto& e : exclude) banned.insert(diversity_key(e.ip));
    // Rank: suspicion count first (a node in more failed attempts of this call is likelier dead),
    // then whether it is in `avoid`. Shuffled, then stably sorted: uniform within each rank.
    std::vector<std::pair<std::size_t, Snode>> ranked;
    for (const auto& c : candidates) {
        if (contains_key(exclude, c) || banned.count(diversity_key(c.ip))) continue;
        ranked.emplace_back(suspicion(suspects, c) * 2 + (contains_key(avoid, c) ? 1 : 0), c);
    }
    shuffle(ranked, rng);
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Snode> path;
    std::set<std::string> used;
    for (const auto& [rank, c] : ranked) {
        if (path.size() == length) break;
        auto k = diversity_key(c.ip);
        if (used.count(k)) continue;
        used.insert(k);
        path.push_back(c);
    }
    if (path.size() < length) return std::nullopt;
    return path;
}

std::optional<Snode> pick_replacement(std::span<const Snode> candidates, std::span<const Snode> path, std::size_t index,
                                      std::span<const Snode> exclude, Rng& rng, std::span<const Snode> avoid) {
    std::set<std::string> banned;
    for (const auto& e : exclude) banned.insert(diversity_key(e.ip));
    for (std::size_t i = 0; i < path.size(); ++i)
        if (i != index) banned.insert(diversity_key(path[i].ip));
    std::vector<Snode> ok;
    for (const auto& c : candidates) {
        if (contains_key(path, c) || contains_key(exclude, c) || banned.count(diversity_key(c.ip))) continue;
        ok.push_back(c);
    }
    if (ok.empty()) return std::nullopt;
    std::vector<Snode> preferred;
    for (const auto& c : ok)
        if (!contains_key(avoid, c)) preferred.push_back(c);
    if (!preferred.empty()) return preferred[session::random_below(rng, preferred.size())];
    return ok[session::random_below(rng, ok.size())];
}

std::int64_t median(std::vector<std::int64_t> v) {
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) / 2];
}

}  // namespace session::network::detail

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

// ---- the path set ------------------------------------------------------------------------------

PathSet::PathSet(const NetworkConfig& config, Rng& rng, const Logger& log) : cfg_(config), rng_(rng), log_(log) {}

std::vector<Snode> PathSet::avoid_locked(std::span<const Snode> failing) const {
    // Soft rule for new paths: avoid nodes of the other paths and nodes with recent failures (a dead
    // relay is not re-used while healthy nodes remain).
    std::vector<Snode> out;
    for (const auto& p : paths_) out.insert(out.end(), p.nodes.begin(), p.nodes.end());
    out.insert(out.end(), failing.begin(), failing.end());
    return out;
}

PathSet::Choice PathSet::choose(const Snode& dest, const std::set<std::uint64_t>& failed, std::span<const Snode> suspects,
                                std::span<const Snode> usable, std::span<const Snode> failing) {
    Choice out;
    Locked lock(m_);
    while (paths_.size() < cfg_.path_count) {
        auto p = pick_path(usable, cfg_.path_length, {}, avoid_locked(failing), rng_, suspects);
        if (!p) break;
        paths_.push_back(Path{next_id_++, std::move(*p), 0});
        ++builds_;
        std::string desc;
        for (const auto& n : paths_.back().nodes) desc += (desc.empty() ? "" : " → ") + n.address();
        log_(LogLevel::debug, "network: path " + std::to_string(paths_.back().id) + " built: " + desc);
    }
    auto suspect = [&](const Path& p) {
        return std::any_of(p.nodes.begin(), p.nodes.end(), [&](const Snode& n) { return suspicion(suspects, n) > 0; });
    };
    std::vector<std::size_t> fresh, tried;
    for (std::size_t i = 0; i < paths_.size(); ++i) {
        if (path_touches(paths_[i].nodes, dest)) continue;
        if (failed.count(paths_[i].id)) tried.push_back(i);
        else if (!suspect(paths_[i])) fresh.push_back(i);
        // else: untried but holding a suspect: not used in this call, not penalised either.
    }
    if (!fresh.empty()) {
        out.path = paths_[fresh[random_below(rng_, fresh.size())]];
        return out;
    }

    // The nodes of paths that failed during this call are suspects: a new path takes them only if
    // the pool has nothing else.
    const std::vector<Snode> excl{dest};
    auto p = pick_path(usable, cfg_.path_length, excl, avoid_locked(failing), rng_, suspects);
    if (!p) {
        if (!tried.empty()) out.path = paths_[tried[random_below(rng_, tried.size())]];
        return out;
    }
    ++builds_;
    if (!tried.empty()) {
        // Every kept path failed during this call: replace the worst one. Its nodes get a strike
        // (cleared by their next success) so new paths avoid them.
        std::size_t worst = tried[0];
        for (auto i : tried)
            if (paths_[i].strikes > paths_[worst].strikes) worst = i;
        log_(LogLevel::debug, "network: path " + std::to_string(paths_[worst].id) + " replaced after failures");
        out.demoted = std::move(paths_[worst].nodes);
        paths_[worst] = Path{next_id_++, std::move(*p), 0};
        out.path = paths_[worst];
        return out;
    }
    // Every kept path touches the destination or a suspect: a one-off path that avoids them.
    out.path = Path{0, std::move(*p), 0};
    return out;
}

void PathSet::remove_node(const Ed25519PublicKey& key, std::span<const Snode> usable) {
    Locked lock(m_);
    for (std::size_t p = 0; p < paths_.size();) {
        auto& nodes = paths_[p].nodes;
        auto it = std::find_if(nodes.begin(), nodes.end(), [&](const Snode& n) { return n.keys.ed25519 == key; });
        if (it == nodes.end()) {
            ++p;
            continue;
        }
        const auto idx = static_cast<std::size_t>(it - nodes.begin());
        std::optional<Snode> repl;
        if (idx != 0) {
            std::vector<Snode> others;
            for (std::size_t q = 0; q < paths_.size(); ++q)
                if (q != p) others.insert(others.end(), paths_[q].nodes.begin(), paths_[q].nodes.end());
            repl = pick_replacement(usable, nodes, idx, {}, rng_, others);
        }
        if (repl) {
            log_(LogLevel::info, "network: path " + std::to_string(paths_[p].id) + ": replaced node " + it->address() +
                                     " with " + repl->address());
            *it = *repl;
            ++p;
        } else {
            log_(LogLevel::info, "network: path " + std::to_string(paths_[p].id) + " dropped (node " + it->address() +
                                     " failed)");
            paths_.erase(paths_.begin() + static_cast<std::ptrdiff_t>(p));
        }
    }
}

std::optional<std::vector<Snode>> PathSet::strike(std::uint64_t id) {
    Locked lock(m_);
    auto it = std::find_if(paths_.begin(), paths_.end(), [&](const Path& p) { return p.id == id; });
    if (it == paths_.end()) return std::nullopt;
    if (++it->strikes < cfg_.strike_threshold) return std::nullopt;
    auto nodes = std::move(it->nodes);
    log_(LogLevel::info, "network: path " + std::to_string(id) + " failed " + std::to_string(it->strikes) + " times: dropped");
    paths_.erase(it);
    return nodes;
}

void PathSet::drop(std::uint64_t id) {
    Locked lock(m_);
    std::erase_if(paths_, [&](const Path& p) { return p.id == id; });
}

void PathSet::succeeded(std::uint64_t id) {
    Locked lock(m_);
    for (auto& p : paths_)
        if (p.id == id) p.strikes = 0;
}

void PathSet::keep_only(std::span<const Snode> pool) {
    Locked lock(m_);
    std::erase_if(paths_, [&](const Path& p) {
        return std::any_of(p.nodes.begin(), p.nodes.end(),
                           [&](const Snode& n) { return std::find(pool.begin(), pool.end(), n) == pool.end(); });
    });
}

std::vector<std::vector<Snode>> PathSet::snapshot() const {
    Locked lock(m_);
    std::vector<std::vector<Snode>> out;
    for (const auto& p : paths_) out.push_back(p.nodes);
    return out;
}

}  // namespace session::network::detail

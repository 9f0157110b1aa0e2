// pool.cpp: the snode pool (see pool.hpp).
#include "network/pool.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "detail/file_read.hpp"
#include "network/parse.hpp"
#include "network/seeds.hpp"

namespace session::network::detail {

namespace {

/// A pool cache holds one line per node (about 200 bytes): 16 MiB is far above any real one.
constexpr std::uint64_t kMaxPoolCacheBytes = 16 * 1024 * 1024;

/// A seed request posted to the executor but not started after this long (every executor thread
/// busy, e.g. the caller itself runs on one) is run by the racing thread itself.
constexpr std::chrono::milliseconds kSeedClaimGrace{100};

/// The state one seed race shares with its requests (which may outlive the race).
struct SeedRace {
    std::mutex m;
    std::condition_variable cv;
    std::optional<std::vector<Snode>> result;
    std::vector<std::string> errors;
    std::size_t finished = 0;
};

/// One seed request: run once, by an executor thread or by the racing thread (whichever claims it).
struct SeedRequest {
    std::atomic<bool> claimed{false};
    HttpRequest request;
    std::string url;
};

void run_seed_request(const std::shared_ptr<SeedRace>& race, const std::shared_ptr<SeedRequest>& seed,
                      Transport& transport) {
    if (seed->claimed.exchange(true)) return;
    auto resp = transport.post(seed->request);
    std::optional<std::vector<Snode>> nodes;
    std::string err;
    if (!resp) {
        err = resp.error().message;
    } else if (resp->status != 200) {
        err = "HTTP " + std::to_string(resp->status);
    } else if (resp->content_type.rfind("application/json", 0) != 0) {
        // Desktop requires this content type (SeedNodeAPI.ts).
        err = "Content-Type \"" + quote(resp->content_type) + "\", expected application/json";
    } else {
        auto parsed = parse_seed_reply(to_string(resp->body));
        if (parsed) nodes = std::move(*parsed);
        else err = parsed.error().message;
    }
    {
        std::lock_guard lock(race->m);
        if (nodes && !race->result) race->result = std::move(nodes);
        else if (!nodes) race->errors.push_back(seed->url + ": " + err);
        ++race->finished;
    }
    race->cv.notify_all();
}

}  // namespace

std::vector<Snode> intersection(const std::vector<std::vector<Snode>>& lists) {
    std::vector<Snode> agreed;
    if (lists.empty()) return agreed;
    // A node's pool line names every field (keys, address, swarm id): equal lines, equal nodes.
    std::vector<std::unordered_set<std::string>> others;
    for (std::size_t k = 1; k < lists.size(); ++k) {
        others.emplace_back();
        for (const auto& n : lists[k]) others.back().insert(pool_line(n));
    }
    for (const auto& n : lists[0]) {
        const auto line = pool_line(n);
        if (std::all_of(others.begin(), others.end(), [&](const auto& set) { return set.count(line) > 0; }))
            agreed.push_back(n);
    }
    return agreed;
}

Pool::Pool(Deps d)
        : cfg_(d.config),
          transport_(std::move(d.transport)),
          executor_(std::move(d.executor)),
          rng_(d.rng),
          clock_(d.clock),
          cache_path_(std::move(d.cache_path)),
          log_(d.log) {}

// ---- the list and its strikes ---------------------------------------------------------------------

bool Pool::usable_locked(const Snode& n) const {
    auto it = strikes_.find(n.keys.ed25519.bytes);
    return it == strikes_.end() || it->second < cfg_.strike_threshold;
}

std::vector<Snode> Pool::usable_locked() const {
    std::vector<Snode> out;
    for (const auto& n : nodes_)
        if (usable_locked(n)) out.push_back(n);
    return out;
}

std::vector<Snode> Pool::nodes() const {
    Locked lock(m_);
    return nodes_;
}

std::vector<Snode> Pool::usable() const {
    Locked lock(m_);
    return usable_locked();
}

bool Pool::is_usable(const Snode& node) const {
    Locked lock(m_);
    return usable_locked(node);
}

std::vector<Snode> Pool::failing() const {
    Locked lock(m_);
    std::vector<Snode> out;
    for (const auto& n : nodes_)
        if (usable_locked(n) && strikes_.count(n.keys.ed25519.bytes)) out.push_back(n);
    return out;
}

bool Pool::strike(const Snode& n, std::size_t by) {
    Locked lock(m_);
    auto& s = strikes_[n.keys.ed25519.bytes];
    const bool was_usable = s < cfg_.strike_threshold;
    s += by;
    if (was_usable && s >= cfg_.strike_threshold) {
        log_(LogLevel::info, "network: node " + n.address() + " (" + n.ed25519_hex().substr(0, 8) + ") struck out");
        return true;
    }
    return false;
}

bool Pool::strike_out(const Ed25519PublicKey& key) {
    Locked lock(m_);
    auto& s = strikes_[key.bytes];
    if (s >= cfg_.strike_threshold) return false;
    s = cfg_.strike_threshold;
    log_(LogLevel::info, "network: node " + to_hex(key.bytes).substr(0, 8) + " struck out");
    return true;
}

void Pool::clear_strikes(std::span<const Snode> nodes) {
    Locked lock(m_);
    for (const auto& n : nodes) strikes_.erase(n.keys.ed25519.bytes);
}

// ---- fetching -------------------------------------------------------------------------------------

std::int64_t Pool::refresh_interval_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.pool_refresh_interval).count();
}

bool Pool::fresh_locked(std::int64_t now) const {
    if (nodes_.empty()) return false;
    const std::size_t usable = usable_locked().size();
    const std::size_t need = std::min(cfg_.min_pool_size, std::max<std::size_t>(fetched_size_, 1));
    return usable >= need && usable >= routable_minimum() && now - fetched_ms_ < refresh_interval_ms();
}

Result<bool> Pool::ensure(const AskNode& ask) {
    auto fresh = [&] {
        Locked lock(m_);
        return fresh_locked(clock_.local_ms());
    };
    // A stale but routable pool keeps serving while another thread refreshes it.
    auto routable = [&] {
        Locked lock(m_);
        return !nodes_.empty() && usable_locked().size() >= routable_minimum();
    };
    if (fresh()) return false;
    auto turn = fetch_.begin(fresh, routable);
    if (!turn) return false;
    const std::int64_t now = clock_.local_ms();
    std::size_t usable;
    bool have_pool;
    {
        Locked lock(m_);
        if (fresh_locked(now)) return false;
        usable = usable_locked().size();
        have_pool = !nodes_.empty();
        const bool stale = now - fetched_ms_ >= refresh_interval_ms();
        if (have_pool && !stale && usable >= routable_minimum() && now - last_fetch_attempt_ms_ < kMinRefetchIntervalMs)
            return false;  // cooldown after a strike-triggered fetch: the pool still routes
        last_fetch_attempt_ms_ = now;
    }
    if (!have_pool) {
        // A fresh cached pool saves the seed request at start-up (desktop keeps its pool in its DB).
        auto [cached, fetched] = load_cache();
        if (cached.size() >= std::max(cfg_.min_pool_size, routable_minimum()) && now - fetched < refresh_interval_ms()) {
            std::size_t size;
            {
                Locked lock(m_);
                nodes_ = std::move(cached);
                fetched_ms_ = fetched;
                fetched_size_ = size = nodes_.size();
            }
            log_(LogLevel::info, "network: snode pool from cache: " + std::to_string(size) + " nodes");
            return true;
        }
    }
    if (have_pool && usable >= kRefreshNodes + cfg_.path_length) {
        auto r = refresh_from_snodes(ask);
        if (r) {
            replace(std::move(*r), "3 snodes");
            return true;
        }
        log_(LogLevel::info, r.error().message + "; asking the seeds");
    }
    auto s = race_seeds();
    if (s) {
        replace(std::move(*s), "seed");
        return true;
    }
    log_(LogLevel::warning, s.error().message);
    if (have_pool) {
        Locked lock(m_);
        if (usable < routable_minimum()) strikes_.clear();  // last resort: give every node another chance
        return false;
    }
    auto [cached, fetched] = load_cache();
    if (!cached.empty()) {
        replace(std::move(cached), "cache (seeds unreachable)");
        return true;
    }
    if (!cfg_.bootstrap_nodes.empty()) {
        replace(cfg_.bootstrap_nodes, "bootstrap list (seeds unreachable)");
        return true;
    }
    return unexpected(s.error());
}

Result<std::vector<Snode>> Pool::race_seeds() {
    if (cfg_.seeds.empty()) return unexpected(Errc::net_no_nodes, "network: no seed configured");
    auto race = std::make_shared<SeedRace>();
    std::vector<std::size_t> order(cfg_.seeds.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    shuffle(order, rng_);

    std::vector<std::shared_ptr<SeedRequest>> started;
    auto start = [&](const SeedNode& seed) {
        auto request = std::make_shared<SeedRequest>();
        request->url = seed.url;
        auto& req = request->request;
        req.url = seed.url + "/json_rpc";
        req.body = to_bytes(seed_request_body());
        req.headers = {{"Content-Type", "application/json"}};
        req.tls = seed.tls;
        req.timeout = cfg_.seed_timeout;
        req.connect_timeout = std::min(cfg_.connect_timeout, cfg_.seed_timeout);
        ++seed_requests_;
        log_(LogLevel::debug, "network: asking seed " + seed.url);
        started.push_back(request);
        executor_->post([race, request, transport = transport_] { run_seed_request(race, request, *transport); });
    };
    // A request the executor has not started within the grace period: run it on this thread.
    auto unclaimed = [&]() -> std::shared_ptr<SeedRequest> {
        for (const auto& r : started)
            if (!r->claimed.load()) return r;
        return nullptr;
    };

    auto last_start = std::chrono::steady_clock::now();
    std::unique_lock lock(race->m);
    while (true) {
        if (race->result) break;
        if (started.size() == order.size() && race->finished == started.size()) break;
        const auto now = std::chrono::steady_clock::now();
        const bool more = started.size() < order.size();
        if (more && (started.empty() || race->finished == started.size() || now >= last_start + cfg_.seed_stagger)) {
            lock.unlock();
            start(cfg_.seeds[order[started.size()]]);
            lock.lock();
            last_start = std::chrono::steady_clock::now();
            continue;
        }
        auto wake = now + kSeedClaimGrace;
        if (more) wake = std::min(wake, last_start + cfg_.seed_stagger);
        if (race->cv.wait_until(lock, wake) == std::cv_status::timeout) {
            if (auto mine = unclaimed(); mine && std::chrono::steady_clock::now() >= wake) {
                lock.unlock();
                run_seed_request(race, mine, *transport_);
                lock.lock();
            }
        }
    }
    if (race->result) return std::move(*race->result);
    std::string msg = "network: every seed failed:";
    for (const auto& e : race->errors) msg += " [" + e + "]";
    return unexpected(Errc::net_no_nodes, msg);
}

Result<std::vector<Snode>> Pool::refresh_from_snodes(const AskNode& ask) {
    std::vector<Snode> candidates;
    std::size_t pool_size;
    {
        Locked lock(m_);
        candidates = usable_locked();
        pool_size = nodes_.size();
    }
    shuffle(candidates, rng_);
    std::vector<std::vector<Snode>> lists;
    for (std::size_t i = 0; i < candidates.size() && i < kRefreshNodes + 2 && lists.size() < kRefreshNodes; ++i)
        if (auto list = ask(candidates[i])) lists.push_back(std::move(*list));
    if (lists.size() < kRefreshNodes)
        return unexpected(Errc::net_no_nodes, "network: pool refresh: only " + std::to_string(lists.size()) + " of " +
                                                  std::to_string(kRefreshNodes) + " nodes answered");
    auto agreed = intersection(lists);
    const std::size_t need = std::min(cfg_.refresh_agreement, std::max(routable_minimum(), pool_size * 2 / 3));
    if (agreed.size() < need)
        return unexpected(Errc::net_no_nodes, "network: pool refresh: " + std::to_string(agreed.size()) +
                                                  " nodes agreed, need " + std::to_string(need));
    return agreed;
}

void Pool::replace(std::vector<Snode> nodes, const std::string& source) {
    std::size_t size;
    {
        Locked lock(m_);
        nodes_ = std::move(nodes);
        fetched_ms_ = clock_.local_ms();
        fetched_size_ = size = nodes_.size();
        strikes_.clear();  // a fresh list gives every node a fresh start (libquic)
    }
    ++fetches_;
    log_(LogLevel::info, "network: snode pool from " + source + ": " + std::to_string(size) + " nodes");
    save_cache();
}

void Pool::save_cache() {
    if (cache_path_.empty()) return;
    std::string text;
    {
        Locked lock(m_);
        text = "# session-client snode pool " + std::to_string(fetched_ms_) + "\n";
        for (const auto& n : nodes_) text += pool_line(n) + "\n";
    }
    const std::string tmp = cache_path_ + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            log_(LogLevel::warning, "network: cannot write pool cache " + cache_path_);
            return;
        }
        out << text;
    }
    std::error_code ec;
    std::filesystem::rename(tmp, cache_path_, ec);
    if (ec) log_(LogLevel::warning, "network: cannot write pool cache " + cache_path_ + ": " + ec.message());
}

std::pair<std::vector<Snode>, std::int64_t> Pool::load_cache() const {
    std::vector<Snode> out;
    std::int64_t fetched = 0;
    if (cache_path_.empty()) return {out, 0};
    // The cache is ours, but a file at that path may not be: the file-read rule (a regular file,
    // at most kMaxPoolCacheBytes) applies; an unreadable cache is no cache.
    auto text = session::detail::read_file_if_exists(cache_path_, {kMaxPoolCacheBytes}, "pool cache");
    if (!text) {
        log_(LogLevel::warning, "network: ignoring the pool cache: " + text.error().message);
        return {out, 0};
    }
    if (!*text) return {out, 0};
    std::istringstream in(**text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        if (line[0] == '#') {
            auto sp = line.rfind(' ');
            if (sp != std::string::npos) fetched = std::atoll(line.c_str() + sp + 1);
            continue;
        }
        auto n = parse_pool_line(line);
        if (n) out.push_back(std::move(*n));
    }
    return {out, fetched};
}

}  // namespace session::network::detail

// network.cpp: the Network class — keys, certificates and swarm ids, the HTTPS listeners of the
// storage nodes and seeds, the oxend node list (storage-server.md §8), fault injection, counters,
// the expiry purge and the loopback control endpoint.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "detail/crypto.hpp"
#include "localnet/internal.hpp"
#include "session/attachment.hpp"

namespace session::localnet {

using detail::json;
using detail::Node;
using detail::Reply;
using detail::Seed;
using detail::kill_connection;

namespace {

constexpr const char* kKeysFile = "network-keys.json";
constexpr const char* kFilesDb = "file-server.sqlite";
// Options::file_max_bytes bounds (a sanity range, not a protocol value).
constexpr std::uint64_t kMaxFileLimit = 100'000'000;

json file_counters_json(const FileServerCounters& c) {
    return json{{"http_requests", c.http_requests}, {"endpoints", c.endpoints}, {"uploads", c.uploads},
                {"downloads", c.downloads},         {"not_found", c.not_found}, {"rejected", c.rejected},
                {"onion_requests", c.onion_requests}, {"dropped", c.dropped}, {"hung", c.hung},
                {"corrupted", c.corrupted},         {"delayed", c.delayed}};
}

// The largest upload body a file of `n` bytes becomes in any official client's encryption.
std::uint64_t max_upload_for(std::uint64_t n) {
    namespace att = session::attachment;
    return std::max({att::encrypted_size(att::Scheme::cbc_hmac, n), att::encrypted_size(att::Scheme::stream, n),
                     att::encrypted_size(att::Scheme::gcm, n)});
}

std::string node_ip(std::size_t i, bool distinct_subnets) {
    // One /24 per node (127.1.0.1, 127.1.1.1, …) for clients that build paths from distinct /24s.
    if (distinct_subnets) return "127." + std::to_string(1 + i / 256) + "." + std::to_string(i % 256) + ".1";
    const std::size_t k = i + 2;  // 127.0.0.1 is the seeds' and the control endpoint's address
    if (k <= 254) return "127.0.0." + std::to_string(k);
    const std::size_t j = k - 254;
    return "127.0." + std::to_string(1 + (j - 1) / 254) + "." + std::to_string(1 + (j - 1) % 254);
}

json counters_json(const Counters& c) {
    return json{{"http_requests", c.http_requests},
                {"endpoints", c.endpoints},
                {"methods", c.methods},
                {"onion_requests", c.onion_requests},
                {"onion_relayed", c.onion_relayed},
                {"onion_relay_received", c.onion_relay_received},
                {"onion_destination", c.onion_destination},
                {"replications_received", c.replications_received},
                {"dropped", c.dropped},
                {"hung", c.hung},
                {"corrupted", c.corrupted},
                {"delayed", c.delayed},
                {"hostile", c.hostile}};
}

void add_counters(Counters& into, const Counters& c) {
    into.http_requests += c.http_requests;
    for (auto& [k, v] : c.endpoints) into.endpoints[k] += v;
    for (auto& [k, v] : c.methods) into.methods[k] += v;
    into.onion_requests += c.onion_requests;
    into.onion_relayed += c.onion_relayed;
    into.onion_relay_received += c.onion_relay_received;
    into.onion_destination += c.onion_destination;
    into.replications_received += c.replications_received;
    into.dropped += c.dropped;
    into.hung += c.hung;
    into.corrupted += c.corrupted;
    into.delayed += c.delayed;
    into.hostile += c.hostile;
}

const char* content_type_of(const Reply& r) { return r.is_json() || r.raw_json ? "application/json" : "text/plain"; }

void set_reply(httplib::Response& res, const Reply& r, std::string body) {
    res.status = r.status;
    res.set_content(std::move(body), content_type_of(r));
}

std::string reason_phrase(int status) {
    switch (status) {
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 413: return "Payload Too Large";
        case 414: return "URI Too Long";
        case 416: return "Range Not Satisfiable";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "Error";
    }
}

// Threads per node's HTTPS server (and the file server's).
constexpr std::size_t kServerThreads = 32;

void configure_common(httplib::Server& srv) {
    srv.set_payload_max_length(detail::kMaxBodyBytes);
    srv.set_tcp_nodelay(true);  // small JSON answers must not wait for delayed ACKs
    srv.set_keep_alive_timeout(2);
    srv.set_read_timeout(5, 0);
    srv.set_write_timeout(5, 0);
    // cpp-httplib serves a connection on one pool thread for as long as it lives, idle keep-alive
    // time included; the relayed hops and the swarm's replication run on the entry's thread too. A
    // busy guard (a client keeps two paths, desktop's count) holds a connection per request in
    // flight: with 8 threads, requests queued behind idle connections and a batched broadcast ran
    // at ~1,000 msgs/s with the cores half idle (docs/performance.md). The storage server has no
    // such limit.
    srv.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
    srv.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 404) res.set_content(req.method + " " + req.path + " Not Found", "text/plain");
        else if (res.status == 413) res.set_content("Request body too large", "text/plain");
        else res.set_content(reason_phrase(res.status) + "\n", "text/plain");
        return httplib::Server::HandlerResponse::Handled;
    }));
}

std::optional<ByteArray<32>> parse_account_key(std::string_view hex) {
    if (hex.size() == 66) hex.remove_prefix(2);
    if (hex.size() != 64 || !detail::is_hex(hex)) return std::nullopt;
    auto b = from_hex(hex);
    if (!b) return std::nullopt;
    ByteArray<32> k{};
    std::copy(b->begin(), b->end(), k.begin());
    return k;
}

}  // namespace

namespace detail {

// Closes the TCP connection a request arrived on, without an answer: the socket is found by its
// addresses (httplib does not expose it) and shut down; httplib then fails to write and closes it.
void kill_connection(const httplib::Request& req) {
    rlimit lim{};
    int max_fd = 4096;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        max_fd = static_cast<int>(std::min<rlim_t>(lim.rlim_cur, 65536));
    for (int fd = 3; fd < max_fd; ++fd) {
        sockaddr_in local{}, peer{};
        socklen_t ll = sizeof local, pl = sizeof peer;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0 || local.sin_family != AF_INET) continue;
        if (ntohs(local.sin_port) != req.local_port) continue;
        if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0) continue;
        if (ntohs(peer.sin_port) != req.remote_port) continue;
        char a[INET_ADDRSTRLEN] = {0}, b[INET_ADDRSTRLEN] = {0};
        inet_ntop(AF_INET, &local.sin_addr, a, sizeof a);
        inet_ntop(AF_INET, &peer.sin_addr, b, sizeof b);
        if (req.local_addr != a || req.remote_addr != b) continue;
        ::shutdown(fd, SHUT_RDWR);
        return;
    }
}

}  // namespace detail

// ---- swarms --------------------------------------------------------------------------------

std::uint64_t Network::Impl::swarm_for_key(const ByteArray<32>& key) const {
    {
        std::lock_guard lock(moves_mutex);
        if (auto it = moved.find(key); it != moved.end()) return it->second;
    }
    return detail::closest_swarm(swarm_ids, detail::swarm_space(key)).value_or(detail::kInvalidSwarm);
}

std::vector<Node*> Network::Impl::members(std::uint64_t swarm) const {
    std::vector<Node*> out;
    for (const auto& n : nodes)
        if (n->swarm_id == swarm) out.push_back(n.get());
    return out;
}

Node* Network::Impl::find_node(const ByteArray<32>& ed_pk) const {
    for (const auto& n : nodes)
        if (n->ed_pk == ed_pk) return n.get();
    return nullptr;
}

json Network::Impl::swarm_json(std::uint64_t swarm) const {
    json snodes = json::array();
    for (const Node* n : members(swarm)) {
        snodes.push_back(json{{"address", detail::base32z(n->ed_pk) + ".snode"},
                              {"pubkey_legacy", n->ed_hex},
                              {"pubkey_x25519", n->x_hex},
                              {"pubkey_ed25519", n->ed_hex},
                              {"port", std::to_string(n->port)},
                              {"port_https", n->port},
                              {"port_omq", n->port},
                              {"port_quic", n->port},
                              {"ip", n->ip}});
    }
    return json{{"snodes", std::move(snodes)}, {"swarm", detail::hex_u64(swarm)}};
}

// oxend get_service_nodes (storage-server.md §8): fields (list or {name: true}), active_only,
// limit (>0 random subset, <0 shuffled), service_node_pubkeys, poll_block_hash.
json Network::Impl::service_nodes_result(const json& params) const {
    const json p = params.is_object() ? params : json::object();
    std::optional<std::vector<std::string>> fields;
    if (auto it = p.find("fields"); it != p.end() && !it->is_null()) {
        std::vector<std::string> f;
        if (it->is_array()) {
            for (auto& x : *it)
                if (x.is_string()) f.push_back(x.get<std::string>());
        } else if (it->is_object()) {
            for (auto& [k, v] : it->items())
                if (!v.is_boolean() || v.get<bool>()) f.push_back(k);
        } else if (it->is_string()) {
            f.push_back(it->get<std::string>());
        }
        if (!f.empty() && std::find(f.begin(), f.end(), "all") == f.end()) fields = f;
    }
    auto want = [&](const std::string& name) {
        return !fields || std::find(fields->begin(), fields->end(), name) != fields->end();
    };
    const std::int64_t now_s = base_now() / 1000;
    json top{{"status", "OK"}};
    if (want("height")) top["height"] = detail::block_height();
    if (want("target_height")) top["target_height"] = detail::block_height();
    if (want("block_hash")) top["block_hash"] = detail::block_hash_hex();
    if (want("hardfork")) top["hardfork"] = detail::kHardfork;
    if (want("snode_revision")) top["snode_revision"] = detail::kSnodeRevision;
    if (auto it = p.find("poll_block_hash"); it != p.end() && it->is_string() &&
                                              it->get<std::string>() == detail::block_hash_hex()) {
        top["unchanged"] = true;
        return top;
    }
    std::vector<const Node*> chosen;
    std::optional<std::vector<std::string>> only;
    if (auto it = p.find("service_node_pubkeys"); it != p.end() && it->is_array() && !it->empty()) {
        only.emplace();
        for (auto& x : *it)
            if (x.is_string()) only->push_back(x.get<std::string>());
    }
    for (const auto& n : nodes)
        if (!only || std::find(only->begin(), only->end(), n->ed_hex) != only->end()) chosen.push_back(n.get());
    std::int64_t limit = 0;
    if (auto it = p.find("limit"); it != p.end() && it->is_number_integer()) limit = it->get<std::int64_t>();
    if (limit != 0) {
        std::mt19937_64 gen(randombytes_random() | (std::uint64_t{randombytes_random()} << 32));
        std::shuffle(chosen.begin(), chosen.end(), gen);
        if (limit > 0 && static_cast<std::size_t>(limit) < chosen.size()) chosen.resize(static_cast<std::size_t>(limit));
    }
    const auto v = detail::version_triple();
    json states = json::array();
    for (const Node* n : chosen) {
        json all{{"active", true},
                 {"funded", true},
                 {"last_uptime_proof", now_s - 60},
                 {"public_ip", n->ip},
                 {"pubkey_ed25519", n->ed_hex},
                 {"pubkey_x25519", n->x_hex},
                 {"requested_unlock_height", 0},
                 {"registration_height", 1000},
                 {"service_node_pubkey", n->ed_hex},
                 {"service_node_version", json::array({11, 0, 0})},
                 {"storage_lmq_port", n->port},
                 {"storage_port", n->port},
                 {"storage_server_reachable", true},
                 {"storage_server_version", v},
                 {"swarm", detail::hex_u64(n->swarm_id)},
                 {"swarm_id", n->swarm_id}};
        json entry = json::object();
        for (auto& [k, val] : all.items())
            if (want(k)) entry[k] = val;
        states.push_back(std::move(entry));
    }
    top["service_node_states"] = std::move(states);
    return top;
}

// ---- time, waiting, faults ------------------------------------------------------------------

bool Network::Impl::sleep_for(std::int64_t ms, const Node* node) {
    if (ms <= 0) return true;
    std::unique_lock lock(wake_mutex);
    return !wake_cv.wait_for(lock, std::chrono::milliseconds(ms),
                             [&] { return stopping.load() || (node && !node->running.load()); });
}

bool Network::Impl::reachable_in_process(Node& n) {
    if (auto lat = n.faults.latency_ms.load(); lat > 0) {
        n.count([](Counters& c) { ++c.delayed; });
        if (overlap) overlap->owe(lat);
        else sleep_for(lat);
    }
    if (detail::chance(n.faults.drop_rate.load())) {
        const bool hang = n.faults.drop_timeout.load();
        n.count([&](Counters& c) { ++(hang ? c.hung : c.dropped); });
        return false;
    }
    return true;
}

void Network::Impl::corrupt_maybe(Node& n, std::string& body) {
    if (body.empty() || !detail::chance(n.faults.corrupt_rate.load())) return;
    n.count([](Counters& c) { ++c.corrupted; });
    detail::corrupt_body(body);
}

void detail::corrupt_body(std::string& body) {
    if (body.empty()) return;
    static constexpr char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static constexpr std::size_t kScanLimit = 1 << 20;  // larger bodies (file downloads): probe instead
    static constexpr int kProbes = 256;
    auto random_index = [](std::size_t n) {
        return static_cast<std::size_t>(randombytes_uniform(static_cast<std::uint32_t>(std::min<std::size_t>(n, UINT32_MAX))));
    };
    auto is_alnum = [&](std::size_t i) { return std::isalnum(static_cast<unsigned char>(body[i])) != 0; };
    std::optional<std::size_t> found;
    if (body.size() <= kScanLimit) {
        std::vector<std::size_t> positions;
        for (std::size_t i = 0; i < body.size(); ++i)
            if (is_alnum(i)) positions.push_back(i);
        if (!positions.empty()) found = positions[random_index(positions.size())];
    } else {
        for (int k = 0; k < kProbes && !found; ++k)
            if (const std::size_t i = random_index(body.size()); is_alnum(i)) found = i;
    }
    if (!found) {
        body[random_index(body.size())] ^= 0x01;
        return;
    }
    const std::size_t pos = *found;
    char c;
    do {
        c = alnum[randombytes_uniform(62)];
    } while (c == body[pos]);
    body[pos] = c;
}

// ---- listeners ----------------------------------------------------------------------------

namespace detail {

// httplib's stop() is a no-op until listen has started, so a listener is only handed out (and can
// only be stopped) once it is running.
void run_listener(detail::Listener& l) {
    auto finished = std::make_shared<std::atomic<bool>>(false);
    l.thread = std::thread([p = l.server.get(), finished] {
        p->listen_after_bind();
        *finished = true;
    });
    while (!l.server->is_running() && !*finished) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

void stop_listener(detail::Listener& l) {
    if (l.server) l.server->stop();
    if (l.thread.joinable()) l.thread.join();
    l.server.reset();
}

}  // namespace detail

Result<void> Network::Impl::start_node_listener(Node& n) {
    std::lock_guard lock(n.listener_mutex);
    if (n.listener.server) return {};
    auto srv = std::make_unique<httplib::SSLServer>(n.tls.cert.get(), n.tls.key.get());
    if (!srv->is_valid()) return unexpected(Errc::net_init, "localnet: TLS setup failed for node " + std::to_string(n.index));
    configure_common(*srv);
    // A storage server (uWebSockets) serves any number of requests on one connection; cpp-httplib
    // closes it after 5 by default, which made a client reconnect (a new TLS handshake) every 5
    // onion requests to its guard.
    srv->set_keep_alive_max_count(std::numeric_limits<std::size_t>::max());
    srv->set_default_headers({{"Server", std::string("Oxen Storage Server/") + version()}});
    srv->set_pre_routing_handler([&n](const httplib::Request& req, httplib::Response&) {
        n.count([&](Counters& c) {
            ++c.http_requests;
            ++c.endpoints[req.path];
        });
        return httplib::Server::HandlerResponse::Unhandled;
    });
    // Every routed request first meets the node's faults: latency, then drop or hang. Bodies are
    // read through a content reader: httplib's own body reading caps form-urlencoded bodies at
    // 8 KiB (413), and the storage server ignores Content-Type.
    auto faulted = [this, &n](auto body_fn) {
        return [this, &n, body_fn](const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader& reader) {
            std::string body;
            if (req.is_multipart_form_data()) {
                // Never sent by Session clients; httplib would parse the parts instead of the bytes.
                res.status = 400;
                res.set_content("multipart/form-data bodies are not supported", "text/plain");
                return;
            }
            if (!reader([&](const char* data, std::size_t len) {
                    if (body.size() + len > detail::kMaxBodyBytes) return false;
                    body.append(data, len);
                    return true;
                })) {
                res.status = 413;
                res.set_content("Request body too large", "text/plain");
                return;
            }
            if (auto lat = n.faults.latency_ms.load(); lat > 0) {
                n.count([](Counters& c) { ++c.delayed; });
                if (!sleep_for(lat, &n)) return kill_connection(req);
            }
            if (detail::chance(n.faults.drop_rate.load())) {
                if (n.faults.drop_timeout.load()) {
                    n.count([](Counters& c) { ++c.hung; });
                    sleep_for(opt.hang_time.count(), &n);
                } else {
                    n.count([](Counters& c) { ++c.dropped; });
                }
                return kill_connection(req);
            }
            Reply r = body_fn(req, body);
            std::string text = r.body_text();
            corrupt_maybe(n, text);
            if (hostile_http(n, req, res, r.status, text, content_type_of(r))) return;
            set_reply(res, r, std::move(text));
        };
    };
    // Paths as regexes: clients that join "<base>/" + "/path" send a doubled slash, and the
    // storage server's router is not that strict either.
    srv->Post(R"(/+storage_rpc/v1/?)", faulted([this, &n](const httplib::Request& req, const std::string& body) {
                  if (req.has_header("X-Loki-Long-Poll"))
                      return Reply::text(410, "long polling is no longer supported, client upgrade required");
                  return handle_client_body(n, body, Origin::client);
              }));
    srv->Post(R"(/+onion_req/v2/?)", faulted([this, &n](const httplib::Request&, const std::string& body) {
                  return handle_onion_entry(n, body);
              }));
    srv->Get("/get_stats/v1", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(json{{"version", std::string(version())}}.dump(), "application/json");
    });
    srv->Post("/ping_test/v1", [&n](const httplib::Request&, httplib::Response& res) {
        res.status = 200;
        res.set_header("X-Oxen-Snode-Pubkey", base64_encode(n.ed_pk));
    });
    if (n.port == 0) {
        int port = srv->bind_to_any_port(n.ip);
        if (port <= 0) return unexpected(Errc::net_init, "localnet: cannot bind " + n.ip);
        n.port = static_cast<std::uint16_t>(port);
    } else if (!srv->bind_to_port(n.ip, n.port)) {
        return unexpected(Errc::net_init, "localnet: cannot bind " + n.ip + ":" + std::to_string(n.port));
    }
    n.listener.server = std::move(srv);
    run_listener(n.listener);
    n.running = true;
    return {};
}

void Network::Impl::stop_node_listener(Node& n) {
    std::lock_guard lock(n.listener_mutex);
    n.running = false;
    {
        std::lock_guard wl(wake_mutex);
    }
    wake_cv.notify_all();
    stop_listener(n.listener);
}

Result<void> Network::Impl::start_seed_listener(Seed& s) {
    std::lock_guard lock(s.listener_mutex);
    if (s.listener.server) return {};
    auto srv = std::make_unique<httplib::SSLServer>(seed_tls.cert.get(), seed_tls.key.get());
    if (!srv->is_valid()) return unexpected(Errc::net_init, "localnet: TLS setup failed for a seed");
    configure_common(*srv);
    srv->set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response&) {
        std::lock_guard l(s.counters_mutex);
        ++s.counters.http_requests;
        ++s.counters.endpoints[req.path];
        return httplib::Server::HandlerResponse::Unhandled;
    });
    // oxend's JSON-RPC envelope (storage-server.md §8); desktop requires Content-Type application/json.
    srv->Post(R"(/+json_rpc/?)", [this, &s](const httplib::Request& req, httplib::Response& res) {
        const json body = detail::parse_json(req.body).value_or(json());  // depth-checked: "id" is copied
        json reply{{"jsonrpc", "2.0"}};
        if (!body.is_object()) {
            reply["id"] = nullptr;
            reply["error"] = json{{"code", -32700}, {"message", "Parse error"}};
        } else {
            reply["id"] = body.contains("id") ? body["id"] : json("0");
            const auto m = body.find("method");
            const std::string method = m != body.end() && m->is_string() ? m->get<std::string>() : std::string();
            {
                std::lock_guard l(s.counters_mutex);
                ++s.counters.methods[method];
            }
            if (method == "get_n_service_nodes" || method == "get_service_nodes" || method == "get_all_service_nodes") {
                reply["result"] = service_nodes_result(body.contains("params") ? body["params"] : json::object());
            } else {
                reply["error"] = json{{"code", -32601}, {"message", "Method not found"}};
            }
        }
        res.status = 200;
        res.set_content(detail::dump(reply), "application/json");
    });
    if (s.port == 0) {
        int port = srv->bind_to_any_port("127.0.0.1");
        if (port <= 0) return unexpected(Errc::net_init, "localnet: cannot bind a seed port on 127.0.0.1");
        s.port = static_cast<std::uint16_t>(port);
    } else if (!srv->bind_to_port("127.0.0.1", s.port)) {
        return unexpected(Errc::net_init, "localnet: cannot bind 127.0.0.1:" + std::to_string(s.port));
    }
    s.listener.server = std::move(srv);
    run_listener(s.listener);
    s.down = false;
    return {};
}

void Network::Impl::stop_seed_listener(Seed& s) {
    std::lock_guard lock(s.listener_mutex);
    s.down = true;
    stop_listener(s.listener);
}

// ---- control endpoint ---------------------------------------------------------------------

json Network::Impl::control_command(const json& cmd) {
    Network& net = *self;
    auto fail = [](const std::string& e) { return json{{"ok", false}, {"error", e}}; };
    if (!cmd.is_object() || !cmd.contains("cmd") || !cmd["cmd"].is_string()) return fail("expected {\"cmd\": <name>, …}");
    const std::string c = cmd["cmd"].get<std::string>();
    auto index = [&](const char* key, std::size_t limit) -> std::size_t {
        if (!cmd.contains(key) || !cmd[key].is_number_unsigned()) throw std::invalid_argument(std::string("missing or bad '") + key + "'");
        auto i = cmd[key].get<std::size_t>();
        if (i >= limit) throw std::out_of_range(std::string("'") + key + "' out of range");
        return i;
    };
    auto number = [&](const char* key) -> double {
        if (!cmd.contains(key) || !cmd[key].is_number()) throw std::invalid_argument(std::string("missing or bad '") + key + "'");
        return cmd[key].get<double>();
    };
    try {
        json ok{{"ok", true}};
        if (c == "stop_node") {
            net.stop_node(index("node", nodes.size()));
        } else if (c == "start_node") {
            if (auto r = net.start_node(index("node", nodes.size())); !r) return fail(r.error().message);
        } else if (c == "set_latency") {
            net.set_latency(index("node", nodes.size()), std::chrono::milliseconds(static_cast<std::int64_t>(number("ms"))));
        } else if (c == "set_drop_rate") {
            bool timeout = cmd.contains("timeout") && cmd["timeout"].is_boolean() && cmd["timeout"].get<bool>();
            net.set_drop_rate(index("node", nodes.size()), number("fraction"), timeout);
        } else if (c == "set_clock_skew") {
            net.set_clock_skew(index("node", nodes.size()), std::chrono::seconds(static_cast<std::int64_t>(number("seconds"))));
        } else if (c == "set_corrupt") {
            net.set_corrupt(index("node", nodes.size()), number("fraction"));
        } else if (c == "move_account") {
            if (!cmd.contains("pubkey") || !cmd["pubkey"].is_string()) return fail("missing or bad 'pubkey'");
            std::uint64_t swarm = 0;
            if (cmd.contains("swarm") && cmd["swarm"].is_number_unsigned()) swarm = cmd["swarm"].get<std::uint64_t>();
            else if (cmd.contains("swarm") && cmd["swarm"].is_string()) swarm = std::stoull(cmd["swarm"].get<std::string>(), nullptr, 16);
            else return fail("missing or bad 'swarm'");
            if (auto r = net.move_account(cmd["pubkey"].get<std::string>(), swarm); !r) return fail(r.error().message);
        } else if (c == "set_hostile") {
            if (auto r = net.set_hostile(index("node", nodes.size()), cmd); !r) return fail(r.error().message);
        } else if (c == "set_seed_down") {
            bool down = !cmd.contains("down") || !cmd["down"].is_boolean() || cmd["down"].get<bool>();
            if (auto r = net.set_seed_down(index("seed", seeds.size()), down); !r) return fail(r.error().message);
        } else if (c == "stop_file_server") {
            net.stop_file_server();
        } else if (c == "start_file_server") {
            if (auto r = net.start_file_server(); !r) return fail(r.error().message);
        } else if (c == "set_file_server_latency") {
            net.set_file_server_latency(std::chrono::milliseconds(static_cast<std::int64_t>(number("ms"))));
        } else if (c == "set_file_server_drop_rate") {
            bool timeout = cmd.contains("timeout") && cmd["timeout"].is_boolean() && cmd["timeout"].get<bool>();
            net.set_file_server_drop_rate(number("fraction"), timeout);
        } else if (c == "set_file_server_corrupt") {
            net.set_file_server_corrupt(number("fraction"));
        } else if (c == "clear_faults") {
            net.clear_faults();
        } else if (c == "purge_expired") {
            net.purge_expired();
        } else if (c == "reset_counters") {
            net.reset_counters();
        } else if (c == "counters") {
            if (cmd.contains("node")) {
                ok["counters"] = counters_json(net.counters(index("node", nodes.size())));
            } else {
                json ns = json::array(), ss = json::array();
                for (std::size_t i = 0; i < nodes.size(); ++i) ns.push_back(counters_json(net.counters(i)));
                for (std::size_t i = 0; i < seeds.size(); ++i) ss.push_back(counters_json(net.seed_counters(i)));
                ok["nodes"] = ns;
                ok["seeds"] = ss;
                if (files) ok["file_server"] = file_counters_json(net.file_server_counters());
            }
        } else if (c == "network") {
            ok["network"] = net.network_file();
        } else if (c == "status") {
            json ns = json::array(), ss = json::array();
            for (const auto& n : nodes)
                ns.push_back(json{{"index", n->index},
                                  {"running", n->running.load()},
                                  {"latency_ms", n->faults.latency_ms.load()},
                                  {"drop_rate", n->faults.drop_rate.load()},
                                  {"timeout", n->faults.drop_timeout.load()},
                                  {"clock_skew_s", n->faults.skew_ms.load() / 1000},
                                  {"corrupt_rate", n->faults.corrupt_rate.load()},
                                  {"messages", n->store->count()},
                                  {"hostile", net.hostile(n->index)}});
            for (const auto& s : seeds) ss.push_back(json{{"index", s->index}, {"down", s->down.load()}});
            ok["nodes"] = ns;
            ok["seeds"] = ss;
            if (files)
                ok["file_server"] = json{{"running", files->running.load()},
                                         {"latency_ms", files->faults.latency_ms.load()},
                                         {"drop_rate", files->faults.drop_rate.load()},
                                         {"timeout", files->faults.drop_timeout.load()},
                                         {"corrupt_rate", files->faults.corrupt_rate.load()},
                                         {"files", files->store->count()}};
        } else {
            return fail("unknown cmd '" + c + "'");
        }
        return ok;
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}

// ---- Network --------------------------------------------------------------------------------

Network::Network(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Network::~Network() {
    if (impl_) stop();
}

Result<std::unique_ptr<Network>> Network::start(Options o) {
    if (o.node_count == 0 || o.node_count > 1000)
        return unexpected(Errc::invalid_argument, "localnet: node_count must be 1..1000, got " + std::to_string(o.node_count));
    if (o.swarm_size == 0) return unexpected(Errc::invalid_argument, "localnet: swarm_size must be at least 1");
    if (o.seed_count == 0 || o.seed_count > 16)
        return unexpected(Errc::invalid_argument, "localnet: seed_count must be 1..16, got " + std::to_string(o.seed_count));
    if (o.port_base != 0 &&
        static_cast<std::size_t>(o.port_base) + o.seed_count + o.node_count + (o.file_server ? 2 : 1) > 65535)
        return unexpected(Errc::invalid_argument, "localnet: port_base too high for the number of endpoints");
    if (o.file_server && (o.file_max_bytes == 0 || o.file_max_bytes > kMaxFileLimit))
        return unexpected(Errc::invalid_argument, "localnet: file_max_bytes must be 1.." + std::to_string(kMaxFileLimit) +
                                                      ", got " + std::to_string(o.file_max_bytes));
    if (o.file_server && o.file_expiry.count() < 1)
        return unexpected(Errc::invalid_argument, "localnet: file_expiry must be at least 1 second");
    session::detail::sodium_ready();
    std::signal(SIGPIPE, SIG_IGN);  // a dropped connection must not kill the process

    auto impl = std::make_unique<Impl>();
    impl->opt = o;
    impl->clock = o.clock ? o.clock : system_clock();

    // Keys and swarm ids: from data_dir if it has them, else from key_seed, else random.
    const std::size_t swarm_count = std::max<std::size_t>(1, o.node_count / o.swarm_size);
    std::vector<ByteArray<32>> seeds(o.node_count);
    std::vector<std::uint64_t> ids(swarm_count);
    auto derive = [&](std::string_view label, std::size_t i) {
        const std::string s = "session-localnet " + std::string(label) + " " + std::to_string(o.key_seed) + " " +
                              std::to_string(i);
        return session::detail::blake2b(32, as_bytes(s));
    };
    for (std::size_t i = 0; i < o.node_count; ++i) {
        if (o.key_seed) {
            auto b = derive("node", i);
            std::copy(b.begin(), b.end(), seeds[i].begin());
        } else {
            randombytes_buf(seeds[i].data(), 32);
        }
    }
    for (std::size_t j = 0; j < swarm_count; ++j) {
        if (o.key_seed) {
            auto b = derive("swarm", j);
            std::uint64_t v = 0;
            for (int k = 0; k < 8; ++k) v = (v << 8) | b[static_cast<std::size_t>(k)];
            ids[j] = v;
        } else {
            randombytes_buf(&ids[j], sizeof ids[j]);
        }
        if (ids[j] == detail::kInvalidSwarm) ids[j] -= 1;
    }
    ByteArray<32> files_seed{};
    if (o.key_seed) {
        auto b = derive("file_server", 0);
        std::copy(b.begin(), b.end(), files_seed.begin());
    } else {
        randombytes_buf(files_seed.data(), files_seed.size());
    }
    std::vector<std::uint64_t> node_swarm(o.node_count);
    for (std::size_t i = 0; i < o.node_count; ++i) node_swarm[i] = ids[i % swarm_count];
    std::filesystem::path keys_path;
    if (!o.data_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(o.data_dir, ec);
        if (ec) return unexpected(Errc::io_error, "localnet: cannot create data_dir " + o.data_dir + ": " + ec.message());
        keys_path = std::filesystem::path(o.data_dir) / kKeysFile;
        std::ifstream in(keys_path);
        if (in) {
            const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
            const json saved = detail::parse_json(text).value_or(json());
            if (saved.is_object() && saved.contains("nodes") && saved["nodes"].is_array()) {
                const auto& sn = saved["nodes"];
                for (std::size_t i = 0; i < o.node_count && i < sn.size(); ++i) {
                    auto b = from_hex(sn[i].value("ed25519_seed", std::string()));
                    auto sw = sn[i].value("swarm", std::string());
                    if (!b || b->size() != 32 || sw.empty() || !detail::is_hex(sw))
                        return unexpected(Errc::io_error, "localnet: " + keys_path.string() + " is malformed at node " + std::to_string(i));
                    std::copy(b->begin(), b->end(), seeds[i].begin());
                    node_swarm[i] = std::stoull(sw, nullptr, 16);
                }
                // Key files written before the file server existed have no "file_server" entry.
                if (saved.contains("file_server") && saved["file_server"].is_object()) {
                    auto b = from_hex(saved["file_server"].value("ed25519_seed", std::string()));
                    if (!b || b->size() != 32)
                        return unexpected(Errc::io_error, "localnet: " + keys_path.string() + " is malformed at file_server");
                    std::copy(b->begin(), b->end(), files_seed.begin());
                }
            } else {
                return unexpected(Errc::io_error, "localnet: " + keys_path.string() + " is not a localnet key file");
            }
        }
    }

    auto authority = detail::make_authority();
    if (!authority) return unexpected(authority.error());
    impl->authority = std::move(*authority);
    auto seed_cert = detail::issue_certificate(impl->authority, "127.0.0.1");
    if (!seed_cert) return unexpected(seed_cert.error());
    impl->seed_tls = std::move(*seed_cert);

    for (std::size_t i = 0; i < o.node_count; ++i) {
        auto n = std::make_unique<Node>();
        n->index = i;
        n->ip = node_ip(i, o.distinct_subnets);
        n->port = o.port_base ? static_cast<std::uint16_t>(o.port_base + o.seed_count + i) : 0;
        ByteArray<64> sk{};
        crypto_sign_seed_keypair(n->ed_pk.data(), sk.data(), seeds[i].data());
        n->ed_sk = Secret<64>(std::span<const std::uint8_t, 64>(sk));
        ByteArray<32> xsk{};
        crypto_sign_ed25519_sk_to_curve25519(xsk.data(), sk.data());
        n->x_sk = Secret<32>(std::span<const std::uint8_t, 32>(xsk));
        if (crypto_sign_ed25519_pk_to_curve25519(n->x_pk.data(), n->ed_pk.data()) != 0)
            return unexpected(Errc::key_invalid, "localnet: node key conversion failed");
        sodium_memzero(sk.data(), sk.size());
        sodium_memzero(xsk.data(), xsk.size());
        n->ed_hex = to_hex(n->ed_pk);
        n->x_hex = to_hex(n->x_pk);
        n->swarm_id = node_swarm[i];
        auto cert = detail::issue_certificate(impl->authority, n->ip);
        if (!cert) return unexpected(cert.error());
        n->tls = std::move(*cert);
        try {
            n->store = std::make_unique<detail::MessageStore>(
                o.data_dir.empty() ? std::string()
                                   : (std::filesystem::path(o.data_dir) / ("node-" + std::to_string(i) + ".sqlite")).string());
        } catch (const std::exception& e) {
            return unexpected(Errc::io_error, e.what());
        }
        impl->nodes.push_back(std::move(n));
    }
    for (const auto& n : impl->nodes) impl->swarm_ids.push_back(n->swarm_id);
    std::sort(impl->swarm_ids.begin(), impl->swarm_ids.end());
    impl->swarm_ids.erase(std::unique(impl->swarm_ids.begin(), impl->swarm_ids.end()), impl->swarm_ids.end());

    if (!keys_path.empty()) {
        json saved{{"nodes", json::array()}};
        for (std::size_t i = 0; i < o.node_count; ++i)
            saved["nodes"].push_back(json{{"ed25519_seed", to_hex(seeds[i])}, {"swarm", detail::hex_u64(node_swarm[i])}});
        saved["file_server"] = json{{"ed25519_seed", to_hex(files_seed)}};
        std::ofstream out(keys_path, std::ios::trunc);
        out << saved.dump(1) << '\n';
        std::error_code ec;
        std::filesystem::permissions(keys_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                     std::filesystem::perm_options::replace, ec);
    }
    for (auto& s : seeds) sodium_memzero(s.data(), s.size());

    if (o.file_server) {
        auto fs = std::make_unique<detail::FileServer>();
        fs->port = o.file_server_port ? o.file_server_port
                   : o.port_base      ? static_cast<std::uint16_t>(o.port_base + o.seed_count + o.node_count + 1)
                                      : 0;
        ByteArray<64> sk{};
        crypto_sign_seed_keypair(fs->ed_pk.data(), sk.data(), files_seed.data());
        ByteArray<32> xsk{};
        crypto_sign_ed25519_sk_to_curve25519(xsk.data(), sk.data());
        fs->x_sk = Secret<32>(std::span<const std::uint8_t, 32>(xsk));
        const bool converted = crypto_sign_ed25519_pk_to_curve25519(fs->x_pk.data(), fs->ed_pk.data()) == 0;
        sodium_memzero(sk.data(), sk.size());
        sodium_memzero(xsk.data(), xsk.size());
        if (!converted) return unexpected(Errc::key_invalid, "localnet: file server key conversion failed");
        fs->ed_hex = to_hex(fs->ed_pk);
        fs->x_hex = to_hex(fs->x_pk);
        fs->max_file_bytes = o.file_max_bytes;
        fs->max_upload_bytes = max_upload_for(o.file_max_bytes);
        try {
            fs->store = std::make_unique<detail::FileStore>(
                o.data_dir.empty() ? std::string() : (std::filesystem::path(o.data_dir) / kFilesDb).string());
        } catch (const std::exception& e) {
            return unexpected(Errc::io_error, e.what());
        }
        impl->files = std::move(fs);
    }
    sodium_memzero(files_seed.data(), files_seed.size());

    for (std::size_t k = 0; k < o.seed_count; ++k) {
        auto s = std::make_unique<Seed>();
        s->index = k;
        s->port = o.port_base ? static_cast<std::uint16_t>(o.port_base + k) : 0;
        impl->seeds.push_back(std::move(s));
    }

    std::unique_ptr<Network> net(new Network(std::move(impl)));
    Impl& im = *net->impl_;
    im.self = net.get();
    for (auto& n : im.nodes)
        if (auto r = im.start_node_listener(*n); !r) return unexpected(r.error());
    for (auto& s : im.seeds)
        if (auto r = im.start_seed_listener(*s); !r) return unexpected(r.error());
    if (im.files)
        if (auto r = im.start_file_listener(); !r) return unexpected(r.error());
    if (o.control_endpoint) {
        auto srv = std::make_unique<httplib::Server>();
        configure_common(*srv);
        srv->Post("/control", [&im](const httplib::Request& req, httplib::Response& res) {
            auto cmd = detail::parse_json(req.body);
            json out = !cmd ? json{{"ok", false}, {"error", "body is not JSON (or nested deeper than 64 levels)"}}
                            : im.control_command(*cmd);
            res.status = out.value("ok", false) ? 200 : 400;
            res.set_content(detail::dump(out), "application/json");
        });
        srv->Get("/network", [&im](const httplib::Request&, httplib::Response& res) {
            json out = im.control_command(json{{"cmd", "network"}});
            res.set_content(detail::dump(out["network"]), "application/json");
        });
        srv->Get("/counters", [&im](const httplib::Request&, httplib::Response& res) {
            res.set_content(detail::dump(im.control_command(json{{"cmd", "counters"}})), "application/json");
        });
        std::uint16_t port = o.control_port ? o.control_port
                             : o.port_base ? static_cast<std::uint16_t>(o.port_base + o.seed_count + o.node_count)
                                           : 0;
        if (port == 0) {
            int p = srv->bind_to_any_port("127.0.0.1");
            if (p <= 0) return unexpected(Errc::net_init, "localnet: cannot bind the control port");
            port = static_cast<std::uint16_t>(p);
        } else if (!srv->bind_to_port("127.0.0.1", port)) {
            return unexpected(Errc::net_init, "localnet: cannot bind control port 127.0.0.1:" + std::to_string(port));
        }
        im.control_port = port;
        im.control.server = std::move(srv);
        run_listener(im.control);
    }
    // The expiry purge (storage-server.md §6.5: every 10 s on each node, against its own clock).
    im.purger = std::thread([&im] {
        while (true) {
            std::unique_lock lock(im.wake_mutex);
            if (im.wake_cv.wait_for(lock, im.opt.purge_interval, [&] { return im.stopping.load(); })) return;
            lock.unlock();
            for (auto& n : im.nodes) n->store->purge_expired(im.now(*n));
            if (im.files) im.files->store->purge_expired(im.base_now());
        }
    });
    return net;
}

void Network::stop() {
    Impl& im = *impl_;
    if (im.stopping.exchange(true)) {
        if (im.purger.joinable()) im.purger.join();
        return;
    }
    {
        std::lock_guard lock(im.wake_mutex);
    }
    im.wake_cv.notify_all();
    if (im.control.server) {
        im.control.server->stop();
        if (im.control.thread.joinable()) im.control.thread.join();
        im.control.server.reset();
    }
    if (im.files) im.stop_file_listener();
    for (auto& s : im.seeds) im.stop_seed_listener(*s);
    for (auto& n : im.nodes) im.stop_node_listener(*n);
    if (im.purger.joinable()) im.purger.join();
}

std::vector<std::string> Network::seed_urls() const {
    std::vector<std::string> out;
    for (const auto& s : impl_->seeds) out.push_back("https://127.0.0.1:" + std::to_string(s->port));
    return out;
}

std::string Network::ca_pem() const { return impl_->authority.ca_pem; }

std::string Network::control_url() const {
    return impl_->control_port ? "http://127.0.0.1:" + std::to_string(impl_->control_port) + "/control" : std::string();
}

std::size_t Network::node_count() const { return impl_->nodes.size(); }
std::size_t Network::seed_count() const { return impl_->seeds.size(); }

namespace {
Node& node_at(const Network::Impl& im, std::size_t i) {
    if (i >= im.nodes.size())
        throw std::out_of_range("localnet: node index " + std::to_string(i) + " out of range (" +
                                std::to_string(im.nodes.size()) + " nodes)");
    return *im.nodes[i];
}
}  // namespace

NodeInfo Network::node(std::size_t i) const {
    const Node& n = node_at(*impl_, i);
    NodeInfo info;
    info.index = n.index;
    info.ip = n.ip;
    info.port = n.port;
    info.url = "https://" + n.ip + ":" + std::to_string(n.port);
    info.pubkey_ed25519 = n.ed_hex;
    info.pubkey_x25519 = n.x_hex;
    info.ed25519.bytes = n.ed_pk;
    info.x25519.bytes = n.x_pk;
    info.swarm_id = n.swarm_id;
    info.running = n.running.load();
    return info;
}

std::vector<NodeInfo> Network::nodes() const {
    std::vector<NodeInfo> out;
    for (std::size_t i = 0; i < impl_->nodes.size(); ++i) out.push_back(node(i));
    return out;
}

std::size_t Network::node_index(std::string_view hex) const {
    for (const auto& n : impl_->nodes)
        if (n->ed_hex.size() == hex.size() &&
            std::equal(hex.begin(), hex.end(), n->ed_hex.begin(), [](char a, char b) { return std::tolower(a) == b; }))
            return n->index;
    return impl_->nodes.size();
}

std::vector<std::uint64_t> Network::swarm_ids() const { return impl_->swarm_ids; }

std::vector<std::size_t> Network::swarm_members(std::uint64_t swarm_id) const {
    std::vector<std::size_t> out;
    for (const Node* n : impl_->members(swarm_id)) out.push_back(n->index);
    return out;
}

Result<std::uint64_t> Network::swarm_for(std::string_view pubkey_hex) const {
    auto key = parse_account_key(pubkey_hex);
    if (!key)
        return unexpected(Errc::invalid_argument, "localnet: expected a 64 or 66 hex digit pubkey, got " +
                                                      std::to_string(pubkey_hex.size()) + " characters");
    return impl_->swarm_for_key(*key);
}

json Network::network_file() const {
    json nodes = json::array();
    for (const auto& n : impl_->nodes)
        nodes.push_back(json{{"index", n->index},
                             {"ip", n->ip},
                             {"port", n->port},
                             {"url", "https://" + n->ip + ":" + std::to_string(n->port)},
                             {"pubkey_ed25519", n->ed_hex},
                             {"pubkey_x25519", n->x_hex},
                             {"pubkey_legacy", n->ed_hex},
                             {"swarm_id", n->swarm_id},
                             {"swarm", detail::hex_u64(n->swarm_id)}});
    json out{{"seeds", seed_urls()},
             {"ca_pem", impl_->authority.ca_pem},
             {"control", control_url()},
             {"swarm_size", impl_->opt.swarm_size},
             {"hf", json::array({detail::kHardfork, detail::kSnodeRevision})},
             {"version", version()},
             {"nodes", std::move(nodes)}};
    if (impl_->files) {
        const FileServerInfo f = file_server();
        out["file_server"] = json{{"url", f.url},
                                  {"pubkey_x25519", f.pubkey_x25519},
                                  {"pubkey_ed25519", f.pubkey_ed25519},
                                  {"max_file_bytes", f.max_file_bytes},
                                  {"max_upload_bytes", f.max_upload_bytes}};
    }
    return out;
}

Result<void> Network::write_network_file(const std::string& path) const {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return unexpected(Errc::io_error, "localnet: cannot write " + tmp);
        out << network_file().dump(2) << '\n';
        if (!out) return unexpected(Errc::io_error, "localnet: write to " + tmp + " failed");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return unexpected(Errc::io_error, "localnet: cannot rename " + tmp + " to " + path + ": " + ec.message());
    return {};
}

void Network::stop_node(std::size_t i) { impl_->stop_node_listener(node_at(*impl_, i)); }

Result<void> Network::start_node(std::size_t i) {
    Node& n = node_at(*impl_, i);
    if (impl_->stopping) return unexpected(Errc::net_init, "localnet: the network is stopping");
    return impl_->start_node_listener(n);
}

void Network::set_latency(std::size_t i, std::chrono::milliseconds latency) {
    node_at(*impl_, i).faults.latency_ms = std::max<std::int64_t>(0, latency.count());
}

void Network::set_drop_rate(std::size_t i, double fraction, bool timeout_instead) {
    Node& n = node_at(*impl_, i);
    n.faults.drop_timeout = timeout_instead;
    n.faults.drop_rate = std::clamp(fraction, 0.0, 1.0);
}

void Network::set_clock_skew(std::size_t i, std::chrono::seconds skew) {
    node_at(*impl_, i).faults.skew_ms = skew.count() * 1000;
}

void Network::set_corrupt(std::size_t i, double fraction) {
    node_at(*impl_, i).faults.corrupt_rate = std::clamp(fraction, 0.0, 1.0);
}

Result<void> Network::move_account(std::string_view pubkey_hex, std::uint64_t swarm_id) {
    auto key = parse_account_key(pubkey_hex);
    if (!key)
        return unexpected(Errc::invalid_argument, "localnet: move_account: expected a 64 or 66 hex digit pubkey, got " +
                                                      std::to_string(pubkey_hex.size()) + " characters");
    Impl& im = *impl_;
    if (std::find(im.swarm_ids.begin(), im.swarm_ids.end(), swarm_id) == im.swarm_ids.end())
        return unexpected(Errc::invalid_argument, "localnet: move_account: no swarm " + detail::hex_u64(swarm_id));
    std::unique_lock moving(im.account_moves);  // no client request runs during the move
    const std::uint64_t old = im.swarm_for_key(*key);
    if (old != swarm_id) {
        // Migrate: every message any old member holds goes to every new member, then leaves the old.
        std::map<std::string, detail::StoredMessage> all;
        for (Node* n : im.members(old))
            for (auto& m : n->store->messages_for_key(*key)) all.emplace(m.hash, std::move(m));
        std::vector<detail::StoredMessage> ordered;
        for (auto& [h, m] : all) ordered.push_back(std::move(m));
        std::sort(ordered.begin(), ordered.end(), [](auto& a, auto& b) { return a.timestamp < b.timestamp; });
        for (Node* n : im.members(swarm_id))
            for (const auto& m : ordered) n->store->insert_ignore(m);
        for (Node* n : im.members(old)) n->store->delete_for_key(*key);
    }
    std::lock_guard lock(im.moves_mutex);
    im.moved[*key] = swarm_id;
    return {};
}

Result<void> Network::set_seed_down(std::size_t k, bool down) {
    if (k >= impl_->seeds.size())
        throw std::out_of_range("localnet: seed index " + std::to_string(k) + " out of range");
    Seed& s = *impl_->seeds[k];
    if (down) {
        impl_->stop_seed_listener(s);
        return {};
    }
    if (impl_->stopping) return unexpected(Errc::net_init, "localnet: the network is stopping");
    return impl_->start_seed_listener(s);
}

void Network::clear_faults() {
    for (auto& n : impl_->nodes) {
        n->faults.latency_ms = 0;
        n->faults.drop_rate = 0;
        n->faults.drop_timeout = false;
        n->faults.skew_ms = 0;
        n->faults.corrupt_rate = 0;
        std::lock_guard lock(n->hostile_mutex);
        n->hostile.reset();
    }
    if (impl_->files) {
        auto& f = impl_->files->faults;
        f.latency_ms = 0;
        f.drop_rate = 0;
        f.drop_timeout = false;
        f.corrupt_rate = 0;
    }
}

Counters Network::counters(std::size_t i) const {
    const Node& n = node_at(*impl_, i);
    std::lock_guard lock(n.counters_mutex);
    return n.counters;
}

Counters Network::seed_counters(std::size_t k) const {
    if (k >= impl_->seeds.size())
        throw std::out_of_range("localnet: seed index " + std::to_string(k) + " out of range");
    const Seed& s = *impl_->seeds[k];
    std::lock_guard lock(s.counters_mutex);
    return s.counters;
}

Counters Network::total_counters() const {
    Counters total;
    for (std::size_t i = 0; i < impl_->nodes.size(); ++i) add_counters(total, counters(i));
    return total;
}

void Network::reset_counters() {
    for (auto& n : impl_->nodes) {
        std::lock_guard lock(n->counters_mutex);
        n->counters = Counters{};
    }
    for (auto& s : impl_->seeds) {
        std::lock_guard lock(s->counters_mutex);
        s->counters = Counters{};
    }
    if (impl_->files) {
        std::lock_guard lock(impl_->files->counters_mutex);
        impl_->files->counters = FileServerCounters{};
    }
}

std::int64_t Network::now_ms(std::size_t i) const { return impl_->now(node_at(*impl_, i)); }

std::size_t Network::message_count(std::size_t i) const { return node_at(*impl_, i).store->count(); }

void Network::purge_expired() {
    for (auto& n : impl_->nodes) n->store->purge_expired(impl_->now(*n));
    if (impl_->files) impl_->files->store->purge_expired(impl_->base_now());
}

// ---- the file server --------------------------------------------------------------------------

namespace {
detail::FileServer& files_of(const Network::Impl& im) {
    if (!im.files) throw std::logic_error("localnet: this network runs no file server (Options::file_server)");
    return *im.files;
}
}  // namespace

bool Network::has_file_server() const { return impl_->files != nullptr; }

FileServerInfo Network::file_server() const {
    const detail::FileServer& fs = files_of(*impl_);
    FileServerInfo info;
    info.host = "127.0.0.1";
    info.port = fs.port;
    info.url = "http://127.0.0.1:" + std::to_string(fs.port);
    info.pubkey_ed25519 = fs.ed_hex;
    info.pubkey_x25519 = fs.x_hex;
    info.ed25519.bytes = fs.ed_pk;
    info.x25519.bytes = fs.x_pk;
    info.max_file_bytes = fs.max_file_bytes;
    info.max_upload_bytes = fs.max_upload_bytes;
    info.running = fs.running.load();
    return info;
}

void Network::stop_file_server() {
    files_of(*impl_);
    impl_->stop_file_listener();
}

Result<void> Network::start_file_server() {
    files_of(*impl_);
    if (impl_->stopping) return unexpected(Errc::net_init, "localnet: the network is stopping");
    return impl_->start_file_listener();
}

void Network::set_file_server_latency(std::chrono::milliseconds latency) {
    files_of(*impl_).faults.latency_ms = std::max<std::int64_t>(0, latency.count());
}

void Network::set_file_server_drop_rate(double fraction, bool timeout_instead) {
    auto& fs = files_of(*impl_);
    fs.faults.drop_timeout = timeout_instead;
    fs.faults.drop_rate = std::clamp(fraction, 0.0, 1.0);
}

void Network::set_file_server_corrupt(double fraction) {
    files_of(*impl_).faults.corrupt_rate = std::clamp(fraction, 0.0, 1.0);
}

FileServerCounters Network::file_server_counters() const {
    const auto& fs = files_of(*impl_);
    std::lock_guard lock(fs.counters_mutex);
    return fs.counters;
}

std::size_t Network::file_count() const { return files_of(*impl_).store->count(); }

}  // namespace session::localnet

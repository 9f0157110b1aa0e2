#pragma once
// daemon.hpp: `session-cli daemon`: one account, its store, and JSON-RPC 2.0 for other programs
// (docs/daemon.md). The socket front end is in daemon.cpp, the HTTP one in daemon_http.cpp; both
// hand each request to Daemon::call. Events are the store's durable event log: each subscriber
// keeps a sequence number and is sent every event after it, from the store, so a subscriber that
// was away (or a daemon that was killed) replays what it missed.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "detail/jsonrpc.hpp"
#include "session/client.hpp"
#include "session/store.hpp"

namespace session::cli::daemon {

using json = nlohmann::json;

/// Structured logs: one JSON object per line on stderr ({"time","level","msg",...}).
class Log {
public:
    explicit Log(bool debug) : debug_(debug) {}
    void write(network::LogLevel level, std::string_view msg, const json& fields = json::object());
    network::LogFn library_fn();

private:
    std::mutex mu_;
    bool debug_;
};

/// Wakes whoever waits for new events (subscribers) or new sends (the outbox).
class Bus {
public:
    void kick();
    /// Waits until kick() after `seen` (returns the new generation) or the timeout.
    std::uint64_t wait(std::uint64_t seen, std::chrono::milliseconds timeout);
    std::uint64_t generation();

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::uint64_t gen_ = 0;
};

struct RpcFailure {
    int code;
    std::string message;
    json data = nullptr;
};
using Reply = Expected<json, RpcFailure>;

/// What a front end keeps per client: its subscriptions (id → last seq sent) and subscriber name.
struct Peer {
    std::mutex mu;
    std::map<std::uint64_t, std::uint64_t> subscriptions;
    std::string subscriber = "default";
    bool can_subscribe = true;  ///< false over HTTP POST (events come from GET /api/v1/events)
};

class Daemon {
public:
    Daemon(Client& client, std::shared_ptr<store::Store> db, Log& log, std::string data_dir);

    /// One parsed request → its result or failure.
    Reply call(const detail::jsonrpc::Request& request, Peer& peer);
    /// One raw request line → the response line ("" for a notification without an error).
    std::string handle_line(std::string_view line, Peer& peer);

    /// The event notification lines for `peer`'s subscriptions that are due, advancing them.
    std::vector<std::string> pending_events(Peer& peer, std::size_t max = 256);
    /// Events after `after` as (seq, notification line) (HTTP), advancing `after`.
    std::vector<std::pair<std::uint64_t, std::string>> events_since(std::uint64_t& after, std::size_t max = 256);

    Bus& events() { return events_; }
    Bus& outbox() { return outbox_; }
    Log& log() { return log_; }
    std::atomic<bool> stopping{false};

private:
    Reply send(const json& p);
    Reply send_reaction(const json& p);
    Reply send_receipt(const json& p);
    Reply send_typing(const json& p);
    Reply remote_delete(const json& p);
    Reply list_conversations(const json& p);
    Reply list_messages(const json& p);
    Reply get_profile();
    Reply update_profile(const json& p);
    Reply subscribe(const json& p, Peer& peer);
    Reply unsubscribe(const json& p, Peer& peer);
    Reply ack(const json& p, Peer& peer);

    Client& client_;
    std::shared_ptr<store::Store> db_;
    Log& log_;
    std::string data_dir_;
    Bus events_;
    Bus outbox_;
    std::atomic<std::uint64_t> next_subscription_{1};
};

/// The HTTP front end (daemon_http.cpp). Built without cpp-httplib, start() refuses with a clear error.
class HttpServer {
public:
    /// Binds host:port and serves in a thread of its own. Errors: a message (bind failed, no support).
    [[nodiscard]] static Expected<std::unique_ptr<HttpServer>, std::string> start(Daemon& daemon,
                                                                                   const std::string& host, int port,
                                                                                   std::string token);
    virtual ~HttpServer() = default;
    virtual void stop() = 0;
};

}  // namespace session::cli::daemon

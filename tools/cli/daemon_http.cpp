// daemon_http.cpp: the daemon's optional HTTP front end (cpp-httplib), loopback by default:
//   POST /api/v1/rpc     one JSON-RPC request per body → its response (subscribe is refused here)
//   GET  /api/v1/events  Server-Sent Events: each event notification as `id: SEQ` + `data: LINE`,
//                        from ?since=SEQ (or the Last-Event-ID header), replayed from the store
//   GET  /api/v1/check   200 "ok" (liveness; no token needed)
// Every other request needs `Authorization: Bearer TOKEN` (the --token-file's content); a wrong or
// missing token is 401 with a JSON-RPC error body (code -32002).
#include "daemon.hpp"

#if SESSION_HAVE_LOCALNET
#include <httplib.h>
#include <sodium.h>

#include <thread>

namespace session::cli::daemon {

namespace {

namespace rpc = detail::jsonrpc;

// Constant-time comparison of the presented token with ours.
bool token_ok(const httplib::Request& req, const std::string& token) {
    const std::string header = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (header.size() != prefix.size() + token.size() || header.compare(0, prefix.size(), prefix) != 0) return false;
    return sodium_memcmp(header.data() + prefix.size(), token.data(), token.size()) == 0;
}

class Server final : public HttpServer {
public:
    Server(Daemon& d, std::string token) : d_(d), token_(std::move(token)) {
        srv_.set_payload_max_length(rpc::kMaxRequestBytes);
        srv_.set_read_timeout(10, 0);
        srv_.Get("/api/v1/check", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
        srv_.Post("/api/v1/rpc", [this](const httplib::Request& req, httplib::Response& res) {
            if (!token_ok(req, token_)) return unauthorized(res);
            Peer peer;
            peer.can_subscribe = false;
            std::string line = d_.handle_line(req.body, peer);
            if (line.empty()) {
                res.status = 204;
                return;
            }
            res.set_content(line + "\n", "application/json");
        });
        srv_.Get("/api/v1/events", [this](const httplib::Request& req, httplib::Response& res) {
            if (!token_ok(req, token_)) return unauthorized(res);
            std::uint64_t since = 0;
            std::string from = req.has_param("since") ? req.get_param_value("since") : req.get_header_value("Last-Event-ID");
            if (!from.empty()) {
                try {
                    std::size_t used = 0;
                    since = std::stoull(from, &used);
                    if (used != from.size()) throw std::invalid_argument("since");
                } catch (const std::exception&) {
                    res.status = 400;
                    res.set_content(rpc::error_line(nullptr, rpc::kInvalidParams, "since: expected a sequence number") + "\n",
                                    "application/json");
                    return;
                }
            }
            auto cursor = std::make_shared<std::uint64_t>(since);
            res.set_header("Cache-Control", "no-store");
            res.set_chunked_content_provider("text/event-stream", [this, cursor](std::size_t, httplib::DataSink& sink) {
                std::uint64_t seen = d_.events().generation();
                while (!d_.stopping) {
                    auto lines = d_.events_since(*cursor);
                    for (const auto& [seq, line] : lines) {
                        const std::string frame = "id: " + std::to_string(seq) + "\ndata: " + line + "\n\n";
                        if (!sink.write(frame.data(), frame.size())) return false;
                    }
                    if (!lines.empty()) continue;
                    // A client that went away is noticed here.
                    if (!sink.is_writable()) return false;
                    seen = d_.events().wait(seen, std::chrono::milliseconds(1000));
                }
                sink.done();
                return false;
            });
        });
    }

    bool bind(const std::string& host, int port) { return srv_.bind_to_port(host, port); }
    void run() {
        thread_ = std::thread([this] { srv_.listen_after_bind(); });
    }
    void stop() override {
        srv_.stop();
        if (thread_.joinable()) thread_.join();
    }
    ~Server() override { stop(); }

private:
    static void unauthorized(httplib::Response& res) {
        res.status = 401;
        res.set_header("WWW-Authenticate", "Bearer");
        res.set_content(rpc::error_line(nullptr, rpc::kUnauthorized, "unauthorized: expected Authorization: Bearer TOKEN") + "\n",
                        "application/json");
    }

    Daemon& d_;
    std::string token_;
    httplib::Server srv_;
    std::thread thread_;
};

}  // namespace

Expected<std::unique_ptr<HttpServer>, std::string> HttpServer::start(Daemon& daemon, const std::string& host, int port,
                                                                     std::string token) {
    auto s = std::make_unique<Server>(daemon, std::move(token));
    if (!s->bind(host, port)) return Unexpected<std::string>("cannot listen on " + host + ":" + std::to_string(port));
    s->run();
    return std::unique_ptr<HttpServer>(std::move(s));
}

}  // namespace session::cli::daemon

#else

namespace session::cli::daemon {
Expected<std::unique_ptr<HttpServer>, std::string> HttpServer::start(Daemon&, const std::string&, int, std::string) {
    return Unexpected<std::string>("this session-cli was built without HTTP support (cpp-httplib)");
}
}  // namespace session::cli::daemon

#endif

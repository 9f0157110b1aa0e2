// daemon.cpp: `session-cli daemon` (see daemon.hpp and docs/daemon.md): the JSON-RPC methods, the
// Unix socket front end, the poller and outbox threads, and the process (signals, logs, shutdown).
#include "daemon.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <list>
#include <thread>

#include "cli.hpp"
#include "detail/file_read.hpp"
#include "detail/json_limited.hpp"

namespace session::cli {
namespace daemon {

namespace rpc = detail::jsonrpc;
namespace fs = std::filesystem;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string_view level_name(network::LogLevel l) {
    switch (l) {
        case network::LogLevel::debug: return "debug";
        case network::LogLevel::info: return "info";
        case network::LogLevel::warning: return "warning";
        case network::LogLevel::error: return "error";
    }
    return "info";
}

RpcFailure invalid(std::string message) { return RpcFailure{rpc::kInvalidParams, std::move(message)}; }

// The store's and the library's errors, as JSON-RPC errors.
RpcFailure from_error(const Error& e) {
    if (store::is_store_failure(e.code)) return RpcFailure{rpc::kStoreError, e.message};
    switch (e.code) {
        case Errc::envelope_too_large: return RpcFailure{rpc::kMessageTooLarge, e.message};
        case Errc::invalid_argument:
        case Errc::session_id_invalid:
        case Errc::session_id_wrong_prefix:
        case Errc::key_invalid: return RpcFailure{rpc::kInvalidParams, e.message};
        default: break;
    }
    return RpcFailure{rpc::kInternalError, e.message};
}

// Most attachments one send takes, and timestamps one receipt names (bounds on what a caller can
// make the daemon upload or send in one call).
constexpr std::size_t kMaxSendAttachments = 32;
constexpr std::size_t kMaxReceiptTimestamps = 1000;

// Parameter readers: a missing optional member or null is "not given".
const json* member(const json& p, const char* key) {
    auto it = p.find(key);
    if (it == p.end() || it->is_null()) return nullptr;
    return &*it;
}

Expected<std::optional<std::int64_t>, RpcFailure> int_param(const json& p, const char* key, std::int64_t min,
                                                            std::int64_t max) {
    const json* v = member(p, key);
    if (!v) return std::optional<std::int64_t>{};
    if (!v->is_number_integer())
        return Unexpected<RpcFailure>(invalid(std::string(key) + ": expected an integer"));
    std::int64_t n;
    if (v->is_number_unsigned()) {
        const auto u = v->get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(max))
            return Unexpected<RpcFailure>(invalid(std::string(key) + ": expected " + std::to_string(min) + ".." +
                                                  std::to_string(max)));
        n = static_cast<std::int64_t>(u);
    } else {
        n = v->get<std::int64_t>();
    }
    if (n < min || n > max)
        return Unexpected<RpcFailure>(invalid(std::string(key) + ": expected " + std::to_string(min) + ".." +
                                              std::to_string(max) + ", got " + std::to_string(n)));
    return std::optional<std::int64_t>{n};
}

Expected<std::optional<std::string>, RpcFailure> string_param(const json& p, const char* key) {
    const json* v = member(p, key);
    if (!v) return std::optional<std::string>{};
    if (!v->is_string()) return Unexpected<RpcFailure>(invalid(std::string(key) + ": expected a string"));
    return std::optional<std::string>{v->get<std::string>()};
}

Expected<SessionId, RpcFailure> session_param(const json& p, const char* key) {
    auto s = string_param(p, key);
    if (!s) return Unexpected<RpcFailure>(s.error());
    if (!*s) return Unexpected<RpcFailure>(invalid(std::string(key) + ": required (a Session ID, \"05…\")"));
    auto id = SessionId::parse(**s);
    if (!id) return Unexpected<RpcFailure>(invalid(std::string(key) + ": " + id.error().message));
    return *id;
}

json attachment_json(const store::Attachment& a) {
    json j;
    j["id"] = a.id;
    j["url"] = a.url;
    j["contentType"] = a.content_type;
    j["fileName"] = a.file_name;
    j["size"] = a.size;
    j["key"] = to_hex(a.key);
    j["digest"] = to_hex(a.digest);
    if (a.width) j["width"] = a.width;
    if (a.height) j["height"] = a.height;
    if (!a.caption.empty()) j["caption"] = a.caption;
    if (a.flags) j["flags"] = a.flags;
    if (!a.local_path.empty()) j["localPath"] = a.local_path;
    return j;
}

json message_json(const store::Message& m) {
    json j;
    j["hash"] = m.hash;
    j["conversation"] = m.conversation.hex();
    j["sender"] = m.sender.hex();
    j["timestamp"] = m.sent_ms;
    j["storedTimestamp"] = m.stored_ms;
    j["kind"] = std::string(to_string(m.kind));
    j["body"] = m.body;
    j["outgoing"] = m.outgoing;
    j["status"] = std::string(store::to_string(m.status));
    json atts = json::array();
    for (const auto& a : m.attachments) atts.push_back(attachment_json(a));
    j["attachments"] = std::move(atts);
    if (m.quote) j["quote"] = json{{"author", m.quote->author.hex()}, {"timestamp", m.quote->timestamp_ms}, {"text", m.quote->text}};
    j["expirationType"] = std::string(to_string(m.expiration_type));
    j["expiresInSeconds"] = m.expiration_timer.count();
    if (m.expires_at_ms) j["expiresAt"] = *m.expires_at_ms;
    if (m.read_ms) j["readAt"] = *m.read_ms;
    if (m.outgoing) j["receipt"] = std::string(store::to_string(m.receipt));
    json reactions = json::array();
    for (const auto& r : m.reactions) reactions.push_back(json{{"reactor", r.reactor.hex()}, {"emoji", r.emoji}});
    j["reactions"] = std::move(reactions);
    if (!m.error.empty()) j["error"] = m.error;
    return j;
}

std::string iso_now() { return iso_time(system_clock()->now_ms()); }

}  // namespace

// ---- Log, Bus ---------------------------------------------------------------------------------

void Log::write(network::LogLevel level, std::string_view msg, const json& fields) {
    if (level == network::LogLevel::debug && !debug_) return;
    json j = json::object();
    j["time"] = iso_now();
    j["level"] = std::string(level_name(level));
    j["msg"] = std::string(msg);
    if (fields.is_object())
        for (auto it = fields.begin(); it != fields.end(); ++it) j[it.key()] = it.value();
    const std::string line = dump(j) + "\n";
    std::lock_guard lock(mu_);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

network::LogFn Log::library_fn() {
    return [this](network::LogLevel level, std::string_view line) { write(level, line, json{{"source", "library"}}); };
}

void Bus::kick() {
    std::lock_guard lock(mu_);
    ++gen_;
    cv_.notify_all();
}

std::uint64_t Bus::wait(std::uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return gen_ != seen; });
    return gen_;
}

std::uint64_t Bus::generation() {
    std::lock_guard lock(mu_);
    return gen_;
}

// ---- methods ----------------------------------------------------------------------------------

Daemon::Daemon(Client& client, std::shared_ptr<store::Store> db, Log& log, std::string data_dir)
        : client_(client), db_(std::move(db)), log_(log), data_dir_(std::move(data_dir)) {}

Reply Daemon::call(const rpc::Request& r, Peer& peer) {
    const json& p = r.params;
    if (r.method == "send") return send(p);
    if (r.method == "listConversations") return list_conversations(p);
    if (r.method == "listMessages") return list_messages(p);
    if (r.method == "getProfile") return get_profile();
    if (r.method == "updateProfile") return update_profile(p);
    if (r.method == "subscribe") return subscribe(p, peer);
    if (r.method == "unsubscribe") return unsubscribe(p, peer);
    if (r.method == "ack") return ack(p, peer);
    if (r.method == "version")
        return json{{"version", std::string(kVersion)}, {"name", "session-cli daemon"}, {"api", 1}};
    if (r.method == "sendReaction") return send_reaction(p);
    if (r.method == "sendReceipt") return send_receipt(p);
    if (r.method == "sendTyping") return send_typing(p);
    if (r.method == "remoteDelete") return remote_delete(p);
    return Unexpected<RpcFailure>(RpcFailure{rpc::kMethodNotFound, "method not found: " + r.method});
}

std::string Daemon::handle_line(std::string_view line, Peer& peer) {
    auto parsed = rpc::parse_request(line);
    if (auto* e = std::get_if<rpc::RpcError>(&parsed)) {
        log_.write(network::LogLevel::warning, "rpc: refused a request", json{{"code", e->code}, {"error", e->message}});
        return rpc::error_line(e->id, e->code, e->message);
    }
    auto& req = std::get<rpc::Request>(parsed);
    Reply reply = [&]() -> Reply {
        try {
            return call(req, peer);
        } catch (const std::exception& ex) {  // a bug must not take the daemon down
            return Unexpected<RpcFailure>(RpcFailure{rpc::kInternalError, std::string("internal error: ") + ex.what()});
        }
    }();
    if (!reply) {
        log_.write(network::LogLevel::info, "rpc: call failed",
                   json{{"method", req.method}, {"code", reply.error().code}, {"error", reply.error().message}});
        return rpc::error_line(req.id, reply.error().code, reply.error().message, reply.error().data);
    }
    log_.write(network::LogLevel::debug, "rpc: call", json{{"method", req.method}});
    if (req.notification) return "";
    return rpc::result_line(req.id, *reply);
}

Reply Daemon::send(const json& p) {
    auto to = session_param(p, "recipient");
    if (!to) return Unexpected<RpcFailure>(to.error());
    auto text = string_param(p, "message");
    if (!text) return Unexpected<RpcFailure>(text.error());
    std::vector<std::string> files;
    if (const json* a = member(p, "attachments")) {
        if (!a->is_array()) return Unexpected<RpcFailure>(invalid("attachments: expected an array of paths"));
        if (a->size() > kMaxSendAttachments)
            return Unexpected<RpcFailure>(invalid("attachments: expected at most " +
                                                  std::to_string(kMaxSendAttachments) + " paths, got " +
                                                  std::to_string(a->size())));
        for (const auto& f : *a) {
            if (!f.is_string() || f.get<std::string>().empty())
                return Unexpected<RpcFailure>(invalid("attachments: expected an array of paths (non-empty strings)"));
            files.push_back(f.get<std::string>());
        }
    }
    if (files.empty() && (!*text || (*text)->empty()))
        return Unexpected<RpcFailure>(invalid("message: required, a non-empty string (Session apps do not show an "
                                              "empty message)"));
    auto qts = int_param(p, "quoteTimestamp", 1, INT64_MAX);
    if (!qts) return Unexpected<RpcFailure>(qts.error());
    auto qauthor = string_param(p, "quoteAuthor");
    if (!qauthor) return Unexpected<RpcFailure>(qauthor.error());
    if (qts->has_value() != qauthor->has_value())
        return Unexpected<RpcFailure>(invalid("quoteTimestamp, quoteAuthor: expected both or neither"));
    std::optional<proto::Quote> quote;
    if (*qts) {
        auto author = SessionId::parse(**qauthor);
        if (!author) return Unexpected<RpcFailure>(invalid("quoteAuthor: " + author.error().message));
        proto::Quote q;
        q.id = static_cast<std::uint64_t>(**qts);
        q.author = author->hex();
        // The quoted text, when we have the message (desktop shows it above the reply).
        auto page = db_->list_messages(*to, {.limit = store::kMaxPageSize});
        if (page)
            for (const auto& m : page->messages)
                if (m.sent_ms == **qts && m.sender == *author) q.text = m.body;
        quote = std::move(q);
    }
    auto expires = int_param(p, "expiresInSeconds", 0, 14LL * 24 * 3600);
    if (!expires) return Unexpected<RpcFailure>(expires.error());
    SendOptions options;
    if (*expires && **expires > 0) {
        options.expiration_type = ExpirationType::delete_after_send;
        options.expiration_timer = std::chrono::seconds(**expires);
    }
    // Attachments are uploaded first (to the file server, encrypted as session-desktop does); the
    // message that carries them is then queued like any other. A failed upload queues nothing.
    for (const auto& path : files) {
        auto pointer = client_.upload_attachment(AttachmentSource::from_path(path));
        if (!pointer) {
            // A file that cannot be read is the caller's bad parameter, not a store failure.
            auto failure = pointer.error().code == Errc::io_error ? invalid(pointer.error().message)
                                                                  : from_error(pointer.error());
            failure.data = json{{"param", "attachments"}, {"path", path}};
            return Unexpected<RpcFailure>(std::move(failure));
        }
        options.attachments.push_back(std::move(*pointer));
    }
    auto queued = client_.queue(*to, text->value_or(""), options, quote);
    if (!queued) return Unexpected<RpcFailure>(from_error(queued.error()));
    log_.write(network::LogLevel::info, "send: queued",
               json{{"hash", queued->hash}, {"recipient", to->hex()}, {"timestamp", queued->timestamp_ms}});
    outbox_.kick();
    events_.kick();  // its sendStatus "queued" event
    return json{{"timestamp", queued->timestamp_ms}, {"hash", queued->hash}};
}

// The conversation methods send at once (not through the outbox: a reaction, receipt, typing
// indicator or unsend that arrives late is worth less than none) and answer like send.
namespace {
json sent_json(const SendResult& r) { return json{{"timestamp", r.timestamp_ms}, {"hash", r.hash}}; }

Expected<std::int64_t, RpcFailure> required_timestamp(const json& p, const char* key) {
    auto t = int_param(p, key, 1, INT64_MAX);
    if (!t) return Unexpected<RpcFailure>(t.error());
    if (!*t) return Unexpected<RpcFailure>(invalid(std::string(key) + ": required (a sent timestamp, Unix ms)"));
    return **t;
}

Expected<bool, RpcFailure> bool_param(const json& p, const char* key) {
    const json* v = member(p, key);
    if (!v) return false;
    if (!v->is_boolean()) return Unexpected<RpcFailure>(invalid(std::string(key) + ": expected true or false"));
    return v->get<bool>();
}
}  // namespace

Reply Daemon::send_reaction(const json& p) {
    auto to = session_param(p, "recipient");
    if (!to) return Unexpected<RpcFailure>(to.error());
    auto emoji = string_param(p, "emoji");
    if (!emoji) return Unexpected<RpcFailure>(emoji.error());
    if (!*emoji || (*emoji)->empty()) return Unexpected<RpcFailure>(invalid("emoji: required, a non-empty string"));
    auto author = session_param(p, "targetAuthor");
    if (!author) return Unexpected<RpcFailure>(author.error());
    auto ts = required_timestamp(p, "targetTimestamp");
    if (!ts) return Unexpected<RpcFailure>(ts.error());
    auto remove = bool_param(p, "remove");
    if (!remove) return Unexpected<RpcFailure>(remove.error());
    const MessageRef target{*ts, author->hex()};
    auto sent = *remove ? client_.unreact(*to, target, **emoji) : client_.react(*to, target, **emoji);
    if (!sent) return Unexpected<RpcFailure>(from_error(sent.error()));
    return sent_json(*sent);
}

Reply Daemon::send_receipt(const json& p) {
    auto to = session_param(p, "recipient");
    if (!to) return Unexpected<RpcFailure>(to.error());
    auto type = string_param(p, "type");
    if (!type) return Unexpected<RpcFailure>(type.error());
    if (*type && **type != "read")
        return Unexpected<RpcFailure>(invalid("type: expected \"read\" (the receipts Session sends), got \"" +
                                              detail::escape_for_terminal(**type) + "\""));
    std::vector<std::int64_t> stamps;
    const json* t = member(p, "targetTimestamp");
    if (t && t->is_array()) {
        if (t->empty() || t->size() > kMaxReceiptTimestamps)
            return Unexpected<RpcFailure>(invalid("targetTimestamp: expected 1.." + std::to_string(kMaxReceiptTimestamps) +
                                                  " timestamps"));
        for (const auto& one : *t) {
            auto v = int_param(json{{"targetTimestamp", one}}, "targetTimestamp", 1, INT64_MAX);
            if (!v) return Unexpected<RpcFailure>(v.error());
            stamps.push_back(**v);
        }
    } else {
        auto one = required_timestamp(p, "targetTimestamp");
        if (!one) return Unexpected<RpcFailure>(one.error());
        stamps.push_back(*one);
    }
    auto sent = client_.mark_read(*to, stamps);
    if (!sent) return Unexpected<RpcFailure>(from_error(sent.error()));
    json out = sent_json(*sent);
    out["shortened"] = sent->shortened;
    return out;
}

Reply Daemon::send_typing(const json& p) {
    auto to = session_param(p, "recipient");
    if (!to) return Unexpected<RpcFailure>(to.error());
    auto stop = bool_param(p, "stop");
    if (!stop) return Unexpected<RpcFailure>(stop.error());
    auto sent = client_.send_typing(*to, *stop ? TypingAction::stopped : TypingAction::started);
    if (!sent) return Unexpected<RpcFailure>(from_error(sent.error()));
    return sent_json(*sent);
}

Reply Daemon::remote_delete(const json& p) {
    auto to = session_param(p, "recipient");
    if (!to) return Unexpected<RpcFailure>(to.error());
    auto ts = required_timestamp(p, "targetTimestamp");
    if (!ts) return Unexpected<RpcFailure>(ts.error());
    auto sent = client_.unsend(*to, *ts);
    if (!sent) return Unexpected<RpcFailure>(from_error(sent.error()));
    json out = sent_json(*sent);
    out["deleted"] = sent->deleted;
    if (sent->delete_error) out["deleteError"] = sent->delete_error->message;
    return out;
}

Reply Daemon::list_conversations(const json& p) {
    auto limit = int_param(p, "limit", 1, 1000);
    if (!limit) return Unexpected<RpcFailure>(limit.error());
    auto list = db_->list_conversations(static_cast<std::size_t>(limit->value_or(1000)));
    if (!list) return Unexpected<RpcFailure>(from_error(list.error()));
    json out = json::array();
    for (const auto& c : *list) {
        json j;
        j["peer"] = c.peer.hex();
        j["displayName"] = c.display_name;
        j["unread"] = c.unread;
        j["lastMessageTimestamp"] = c.last_message_ms;
        j["state"] = std::string(store::to_string(c.state));
        j["expirationType"] = std::string(to_string(c.expiration_type));
        j["expiresInSeconds"] = c.expiration_timer.count();
        if (c.avatar) j["avatarUrl"] = c.avatar->url;
        out.push_back(std::move(j));
    }
    return json{{"conversations", std::move(out)}};
}

Reply Daemon::list_messages(const json& p) {
    auto peer = session_param(p, "conversation");
    if (!peer) return Unexpected<RpcFailure>(peer.error());
    auto limit = int_param(p, "limit", 1, static_cast<std::int64_t>(store::kMaxPageSize));
    if (!limit) return Unexpected<RpcFailure>(limit.error());
    auto cursor = string_param(p, "cursor");
    if (!cursor) return Unexpected<RpcFailure>(cursor.error());
    auto order = string_param(p, "order");
    if (!order) return Unexpected<RpcFailure>(order.error());
    store::MessageQuery q;
    q.limit = static_cast<std::size_t>(limit->value_or(50));
    if (*order && **order != "newest" && **order != "oldest")
        return Unexpected<RpcFailure>(invalid("order: expected \"newest\" or \"oldest\""));
    q.order = (*order && **order == "oldest") ? store::Order::oldest_first : store::Order::newest_first;
    if (*cursor) {
        auto c = store::MessageCursor::parse(**cursor);
        if (!c) return Unexpected<RpcFailure>(invalid("cursor: " + c.error().message));
        q.after = *c;
    }
    auto page = db_->list_messages(*peer, q);
    if (!page) return Unexpected<RpcFailure>(from_error(page.error()));
    json out = json::array();
    for (const auto& m : page->messages) out.push_back(message_json(m));
    return json{{"messages", std::move(out)}, {"next", page->next ? json(page->next->token()) : json(nullptr)}};
}

Reply Daemon::get_profile() {
    return json{{"sessionId", client_.session_id().hex()}, {"displayName", client_.display_name()}};
}

Reply Daemon::update_profile(const json& p) {
    auto name = string_param(p, "displayName");
    if (!name) return Unexpected<RpcFailure>(name.error());
    if (!*name) return Unexpected<RpcFailure>(invalid("displayName: required (\"\" = none)"));
    if ((*name)->size() > 100 || detail::invalid_utf8_at(**name))
        return Unexpected<RpcFailure>(invalid("displayName: expected at most 100 bytes of UTF-8"));
    // Kept in the data dir, so a restarted daemon sends the same name.
    const fs::path file = fs::path(data_dir_) / "profile.json";
    const fs::path tmp = fs::path(data_dir_) / "profile.json.tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << dump(json{{"displayName", **name}}) << "\n";
        out.flush();
        if (!out) return Unexpected<RpcFailure>(RpcFailure{rpc::kStoreError, "updateProfile: cannot write " + tmp.string()});
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) return Unexpected<RpcFailure>(RpcFailure{rpc::kStoreError, "updateProfile: cannot write " + file.string() + ": " + ec.message()});
    client_.set_display_name(**name);
    return get_profile();
}

Reply Daemon::subscribe(const json& p, Peer& peer) {
    if (!peer.can_subscribe)
        return Unexpected<RpcFailure>(invalid("subscribe: over HTTP, events come from GET /api/v1/events?since=SEQ"));
    auto since = int_param(p, "since", 0, INT64_MAX);
    if (!since) return Unexpected<RpcFailure>(since.error());
    std::uint64_t from;
    if (*since) {
        from = static_cast<std::uint64_t>(**since);
    } else {
        std::string name;
        {
            std::lock_guard lock(peer.mu);
            name = peer.subscriber;
        }
        auto acked = db_->acked_seq(name);
        if (!acked) return Unexpected<RpcFailure>(from_error(acked.error()));
        from = acked->value_or(0);
    }
    const std::uint64_t id = next_subscription_++;
    {
        std::lock_guard lock(peer.mu);
        peer.subscriptions[id] = from;
    }
    events_.kick();
    return json{{"subscription", id}};
}

Reply Daemon::unsubscribe(const json& p, Peer& peer) {
    auto id = int_param(p, "subscription", 1, INT64_MAX);
    if (!id) return Unexpected<RpcFailure>(id.error());
    std::lock_guard lock(peer.mu);
    if (!*id) {
        peer.subscriptions.clear();
        return json(true);
    }
    return json(peer.subscriptions.erase(static_cast<std::uint64_t>(**id)) == 1);
}

Reply Daemon::ack(const json& p, Peer& peer) {
    auto seq = int_param(p, "seq", 0, INT64_MAX);
    if (!seq) return Unexpected<RpcFailure>(seq.error());
    if (!*seq) return Unexpected<RpcFailure>(invalid("seq: required"));
    std::string name;
    {
        std::lock_guard lock(peer.mu);
        name = peer.subscriber;
    }
    auto done = db_->ack_events(name, static_cast<std::uint64_t>(**seq));
    if (!done) return Unexpected<RpcFailure>(from_error(done.error()));
    return json{{"acked", **seq}};
}

namespace {
std::string event_line(const store::Event& e, std::optional<std::uint64_t> subscription) {
    json params = json::object();
    params["seq"] = e.seq;
    params["type"] = e.type;
    if (subscription) params["subscription"] = *subscription;
    params["time"] = e.time_ms;
    // The payload was written by us as a JSON object; parse it back bounded anyway.
    if (auto payload = detail::parse_limited_or_none(e.payload); payload && payload->is_object())
        for (auto it = payload->begin(); it != payload->end(); ++it)
            if (!params.contains(it.key())) params[it.key()] = it.value();
    return rpc::notification_line("event", params);
}
}  // namespace

std::vector<std::string> Daemon::pending_events(Peer& peer, std::size_t max) {
    std::vector<std::string> out;
    std::map<std::uint64_t, std::uint64_t> subs;
    {
        std::lock_guard lock(peer.mu);
        subs = peer.subscriptions;
    }
    for (auto& [id, after] : subs) {
        auto events = db_->events_after(after, max);
        if (!events) {
            log_.write(network::LogLevel::error, "events: cannot read the event log", json{{"error", events.error().message}});
            continue;
        }
        for (const auto& e : *events) {
            out.push_back(event_line(e, id));
            after = e.seq;
        }
        std::lock_guard lock(peer.mu);
        if (auto it = peer.subscriptions.find(id); it != peer.subscriptions.end() && it->second < after) it->second = after;
    }
    return out;
}

std::vector<std::pair<std::uint64_t, std::string>> Daemon::events_since(std::uint64_t& after, std::size_t max) {
    std::vector<std::pair<std::uint64_t, std::string>> out;
    auto events = db_->events_after(after, max);
    if (!events) return out;
    for (const auto& e : *events) {
        out.emplace_back(e.seq, event_line(e, std::nullopt));
        after = e.seq;
    }
    return out;
}

// ---- the Unix socket ---------------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxConnections = 64;

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                pollfd pfd{fd, POLLOUT, 0};
                if (::poll(&pfd, 1, 5000) <= 0) return false;  // a client that does not read is dropped
                continue;
            }
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

struct Connection {
    int fd;
    Peer peer;
    std::mutex write_mu;
    std::atomic<bool> closed{false};
    bool write_line(const std::string& line) {
        if (closed) return false;
        std::lock_guard lock(write_mu);
        if (!write_all(fd, line + "\n")) {
            closed = true;
            return false;
        }
        return true;
    }
};

// One client: requests line by line on this thread, events from a second one.
void serve(Daemon& d, std::shared_ptr<Connection> c) {
    std::thread events([&d, c] {
        std::uint64_t seen = d.events().generation();
        while (!c->closed && !d.stopping) {
            for (const auto& line : d.pending_events(c->peer))
                if (!c->write_line(line)) break;
            seen = d.events().wait(seen, std::chrono::milliseconds(500));
        }
    });
    std::string pending;
    bool discarding = false;  // inside a line that was too long: skip to its end
    char buf[64 * 1024];
    while (!c->closed && !d.stopping) {
        pollfd pfd{c->fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, 250);
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        const ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            break;
        }
        std::string_view chunk(buf, static_cast<std::size_t>(n));
        while (!chunk.empty()) {
            const auto nl = chunk.find('\n');
            if (discarding) {
                if (nl == std::string_view::npos) break;
                discarding = false;
                chunk.remove_prefix(nl + 1);
                continue;
            }
            if (nl == std::string_view::npos) {
                pending.append(chunk);
                if (pending.size() > rpc::kMaxRequestBytes) {
                    c->write_line(rpc::error_line(nullptr, rpc::kInvalidRequest,
                                                  "request too large: expected at most " +
                                                      std::to_string(rpc::kMaxRequestBytes) + " bytes per line"));
                    d.log().write(network::LogLevel::warning, "rpc: refused an oversized request");
                    pending.clear();
                    discarding = true;
                }
                break;
            }
            pending.append(chunk.substr(0, nl));
            chunk.remove_prefix(nl + 1);
            if (!pending.empty() && pending.back() == '\r') pending.pop_back();
            if (pending.find_first_not_of(" \t") != std::string::npos) {
                const std::string reply = d.handle_line(pending, c->peer);
                if (!reply.empty()) c->write_line(reply);
            }
            pending.clear();
        }
    }
    c->closed = true;
    d.events().kick();
    events.join();
    ::close(c->fd);
}

}  // namespace

}  // namespace daemon

// ---- the verb -----------------------------------------------------------------------------------

namespace {

using daemon::json;
namespace fs = std::filesystem;

int fail(int code, const std::string& message) {
    report("daemon: " + message);
    return code;
}

// A loopback address, the only kind --http binds without --http-allow-remote.
bool is_loopback(const std::string& host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

int cmd_daemon(const Args& args) {
    const std::string* socket_path = args.get("socket");
    const std::string* data_dir = args.get("data-dir");
    if (!socket_path || socket_path->empty()) return fail(kUsage, "--socket PATH is required");
    if (!data_dir || data_dir->empty()) return fail(kUsage, "--data-dir DIR is required");
    if (socket_path->size() >= sizeof(sockaddr_un{}.sun_path))
        return fail(kUsage, "--socket: the path is too long for a Unix socket (at most " +
                                std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes)");
    std::uint64_t interval_s = 5;
    if (args.has("interval")) {
        auto v = parse_uint_option(args, "interval", 86'400);
        if (!v) return fail(v.error().exit_code, v.error().message);
        if (*v == 0) return fail(kUsage, "--interval: expected at least 1 second, got 0");
        interval_s = *v;
    }
    // --http HOST:PORT and its token.
    std::string http_host;
    int http_port = 0;
    std::string token;
    if (const std::string* http = args.get("http")) {
        const auto colon = http->rfind(':');
        if (colon == std::string::npos || colon == 0)
            return fail(kUsage, "--http: expected HOST:PORT (e.g. 127.0.0.1:8080), got " + *http);
        http_host = http->substr(0, colon);
        if (http_host.size() > 2 && http_host.front() == '[' && http_host.back() == ']')
            http_host = http_host.substr(1, http_host.size() - 2);
        try {
            std::size_t used = 0;
            http_port = std::stoi(http->substr(colon + 1), &used);
            if (used != http->size() - colon - 1 || http_port < 1 || http_port > 65535) throw std::out_of_range("port");
        } catch (const std::exception&) {
            return fail(kUsage, "--http: expected a port 1..65535 after the colon, got " + http->substr(colon + 1));
        }
        if (!is_loopback(http_host) && !args.has("http-allow-remote"))
            return fail(kUsage, "--http: " + http_host + " is not a loopback address; the daemon serves HTTP on "
                                "127.0.0.1 or ::1 only, unless --http-allow-remote is given");
        const std::string* token_file = args.get("token-file");
        if (!token_file || token_file->empty()) return fail(kUsage, "--http needs --token-file FILE (a bearer token)");
        struct stat st{};
        if (::stat(token_file->c_str(), &st) != 0)
            return fail(kUsage, "--token-file " + *token_file + ": " + std::strerror(errno));
        if ((st.st_mode & 077) != 0)
            return fail(kUsage, "--token-file " + *token_file + ": expected mode 0600 (readable by its owner only), "
                                "got 0" + [&] { char b[8]; std::snprintf(b, sizeof b, "%o", st.st_mode & 0777); return std::string(b); }());
        auto content = detail::read_file(*token_file, {.max_bytes = 4096}, "--token-file");
        if (!content) return fail(kUsage, content.error().message);
        token = std::move(*content);
        while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
        if (token.size() < 16) return fail(kUsage, "--token-file " + *token_file + ": expected a token of at least 16 characters");
    } else if (args.has("token-file") || args.has("http-allow-remote")) {
        return fail(kUsage, "--token-file and --http-allow-remote go with --http");
    }

    // The data dir (0700) and the store in it.
    {
        std::error_code ec;
        fs::create_directories(*data_dir, ec);
        if (ec) return fail(kLocal, "--data-dir " + *data_dir + ": cannot create it: " + ec.message());
        // Group and others lose access; the owner's bits are left as they are (a read-only dir
        // stays read-only and is reported below).
        struct stat dst{};
        if (::stat(data_dir->c_str(), &dst) == 0 && (dst.st_mode & 077) != 0) ::chmod(data_dir->c_str(), dst.st_mode & 0700);
    }
    auto self = load_identity(args, StdinUse::free);
    if (!self) return fail(self.error().exit_code, self.error().message);
    const SessionId me = self->session_id();
    const std::string store_path = (fs::path(*data_dir) / "store.sqlite").string();
    auto opened = store::Store::open(store_path, me);
    if (!opened) {
        const auto& e = opened.error();
        if (e.code == Errc::store_read_only)
            return fail(kLocal, "--data-dir " + *data_dir + " is not writable (read-only directory or file): " + e.message);
        if (e.code == Errc::store_busy)
            return fail(kLocal, "--data-dir " + *data_dir + " is in use by another daemon: " + e.message);
        return fail(exit_code_for(e.code) == kUsage ? kUsage : kLocal, e.message);
    }
    auto db = std::make_shared<store::Store>(std::move(*opened));

    daemon::Log log(args.verbosity == Verbosity::debug);

    // SIGTERM/SIGINT (after the phrase prompt, which Ctrl-C may still end): blocked before any
    // thread starts (the network's and ours inherit the mask), taken
    // by sigwaitinfo once the daemon serves; one that comes during start-up waits for it.
    // A file size limit (RLIMIT_FSIZE) reached is a store error (store_full) answered to the
    // caller, not SIGXFSZ ending the daemon.
    ::signal(SIGXFSZ, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    // The network.
    auto started = start_network(args.network, "--network", log.library_fn());
    if (!started) return fail(started.error().exit_code, started.error().message);
    std::shared_ptr<network::Network> net = std::move(*started);
    ClientOptions options;
    options.log = log.library_fn();
    options.store = db;
    options.store_events = true;
    if (const std::string* name = args.get("display-name")) options.display_name = *name;
    {
        // updateProfile's name, kept in the data dir, wins over the flag.
        std::ifstream in(fs::path(*data_dir) / "profile.json");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (auto j = detail::parse_limited_or_none(text); j && j->is_object() && j->contains("displayName") &&
                                                          (*j)["displayName"].is_string())
            options.display_name = (*j)["displayName"].get<std::string>();
    }
    auto client = Client::create(std::move(*self), net, std::move(options));
    if (!client) return fail(exit_code_for_create(client.error()), client.error().message);

    daemon::Daemon d(*client, db, log, *data_dir);

    // The socket: created 0600 (umask while binding), a stale one replaced, a live one refused.
    const int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) return fail(kLocal, std::string("socket: ") + std::strerror(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket_path->c_str(), socket_path->size());
    struct stat st{};
    if (::lstat(socket_path->c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return fail(kUsage, "--socket " + *socket_path + ": exists and is not a socket");
        const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const bool live = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(probe);
        if (live) return fail(kLocal, "--socket " + *socket_path + ": another daemon is listening on it");
        ::unlink(socket_path->c_str());
    }
    const mode_t old_mask = ::umask(0177);
    const int bound = ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    const int bind_errno = errno;
    ::umask(old_mask);
    if (bound != 0) return fail(kLocal, "--socket " + *socket_path + ": cannot bind: " + std::strerror(bind_errno));
    ::chmod(socket_path->c_str(), 0600);

    // HTTP before the socket listens: once the socket answers, every listener is up, so whoever
    // waits for the socket (a supervisor, a test) may use --http at once.
    std::unique_ptr<daemon::HttpServer> http;
    if (http_port != 0) {
        auto started = daemon::HttpServer::start(d, http_host, http_port, token);
        if (!started) {
            ::unlink(socket_path->c_str());
            return fail(kLocal, "--http: " + started.error());
        }
        http = std::move(*started);
    }
    if (::listen(lfd, 64) != 0) {
        const int listen_errno = errno;
        ::unlink(socket_path->c_str());
        return fail(kLocal, std::string("listen: ") + std::strerror(listen_errno));
    }
    log.write(network::LogLevel::info, "daemon: started",
              json{{"sessionId", me.hex()}, {"socket", *socket_path}, {"dataDir", *data_dir},
                   {"http", http_port ? http_host + ":" + std::to_string(http_port) : std::string()},
                   {"interval", interval_s}, {"version", std::string(kVersion)}});

    std::atomic<int> running{2};  // the poller and the outbox threads, until they return
    // Poller: receive every interval (at once again when a call stopped at its limits).
    std::thread poller([&] {
        while (!d.stopping) {
            auto got = client->receive_pages(client->resume_hash(), [&](ReceivedPage& page) {
                d.events().kick();
                d.log().write(network::LogLevel::info, "receive: page",
                              json{{"messages", page.messages.size()}, {"skipped", page.skipped.size()}});
                return !d.stopping.load();
            });
            bool again = false;
            if (!got) {
                d.log().write(exit_code_for(got.error().code) == kNetwork ? network::LogLevel::warning
                                                                          : network::LogLevel::error,
                              "receive: poll failed (will retry)", json{{"error", got.error().message}});
            } else {
                again = got->truncated != retrieve::Truncation::none;
            }
            if (again) continue;
            const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(interval_s);
            while (!d.stopping && std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        --running;
    });
    // Outbox: flushes whenever a send arrives, and every second for retries. Up to kOutboxRounds
    // flushes run at once: a send that arrives while a flush waits for the network goes out in a
    // flush of its own instead of waiting for that one (the outbox's lease hands each entry to one
    // flush).
    constexpr int kOutboxRounds = 4;
    running += kOutboxRounds - 1;
    auto outbox_round = [&](int round) {
        std::uint64_t seen = d.outbox().generation();
        std::int64_t last_purge = 0;
        while (!d.stopping) {
            auto run = client->flush_outbox(64);
            bool more = false;
            if (!run) {
                d.log().write(network::LogLevel::error, "outbox: store failed", json{{"error", run.error().message}});
            } else if (run->attempted || run->expired) {
                d.events().kick();
                d.log().write(network::LogLevel::info, "outbox: flushed",
                              json{{"attempted", run->attempted}, {"stored", run->stored},
                                   {"retrying", run->retrying}, {"expired", run->expired}});
                more = run->attempted == 64;
            }
            const std::int64_t now = system_clock()->now_ms();
            if (round == 0 && now - last_purge > 60'000) {
                last_purge = now;
                (void)db->purge_expired(net->now_ms());
                (void)db->prune_events(now, store::kHistoryRetention);
            }
            if (!more) seen = d.outbox().wait(seen, std::chrono::milliseconds(1000));
        }
        --running;
    };
    std::vector<std::thread> outboxers;
    for (int round = 0; round < kOutboxRounds; ++round) outboxers.emplace_back(outbox_round, round);
    // Acceptor.
    std::mutex conns_mu;
    std::list<std::pair<std::shared_ptr<daemon::Connection>, std::thread>> conns;
    std::thread acceptor([&] {
        while (!d.stopping) {
            pollfd pfd{lfd, POLLIN, 0};
            if (::poll(&pfd, 1, 250) <= 0) continue;
            const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            std::lock_guard lock(conns_mu);
            // Finished connections are reaped here.
            for (auto it = conns.begin(); it != conns.end();) {
                if (it->first->closed && it->second.joinable()) {
                    it->second.join();
                    it = conns.erase(it);
                } else {
                    ++it;
                }
            }
            if (conns.size() >= daemon::kMaxConnections) {
                daemon::write_all(fd, daemon::rpc::error_line(nullptr, daemon::rpc::kInternalError,
                                                              "too many clients: at most " +
                                                                  std::to_string(daemon::kMaxConnections)) + "\n");
                ::close(fd);
                continue;
            }
            auto c = std::make_shared<daemon::Connection>();
            c->fd = fd;
            conns.emplace_back(c, std::thread([&d, c] { daemon::serve(d, c); }));
            d.log().write(network::LogLevel::debug, "socket: client connected");
        }
    });

    int sig = 0;
    while ((sig = sigwaitinfo(&stop_signals, nullptr)) < 0 && errno == EINTR) {
    }
    log.write(network::LogLevel::info, "daemon: stopping", json{{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    d.stopping = true;
    d.events().kick();
    d.outbox().kick();
    acceptor.join();
    ::close(lfd);
    ::unlink(socket_path->c_str());
    if (http) http->stop();
    {
        std::lock_guard lock(conns_mu);
        for (auto& [c, t] : conns) {
            ::shutdown(c->fd, SHUT_RDWR);
            if (t.joinable()) t.join();
        }
        conns.clear();
    }
    // A poll or store stuck in network I/O is not waited for long: everything accepted is in the
    // store already, and the next start goes on from there.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (running.load() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (running.load() > 0) {
        log.write(network::LogLevel::warning, "daemon: network call still running at exit; left behind");
        std::fflush(stderr);
        std::_Exit(kOk);
    }
    poller.join();
    for (auto& t : outboxers) t.join();
    log.write(network::LogLevel::info, "daemon: stopped");
    return kOk;
}

}  // namespace session::cli

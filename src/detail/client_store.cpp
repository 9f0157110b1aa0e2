// client_store.cpp: the Client's opt-in store (see client_store.hpp).
#include "detail/client_store.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>
#include <utility>

#include "session/bytes.hpp"
#include "detail/batch_sender.hpp"
#include "session/retrieve.hpp"

namespace session::detail {

namespace {

using json = nlohmann::ordered_json;

// How long an entry handed to the network is not handed out again (a sender that died mid-send
// sends it again after this; the same bytes, so no duplicate).
constexpr std::chrono::milliseconds kOutboxLease{15'000};
// Outbox entries stored at once by one flush().
constexpr std::size_t kOutboxParallel = 16;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

store::Attachment to_store(const proto::AttachmentPointer& a) {
    store::Attachment s;
    s.id = a.id;
    s.url = a.url.value_or("");
    s.key = a.key.value_or(Bytes{});
    s.digest = a.digest.value_or(Bytes{});
    s.size = a.size.value_or(0);
    s.content_type = a.content_type.value_or("");
    s.file_name = a.file_name.value_or("");
    s.width = a.width.value_or(0);
    s.height = a.height.value_or(0);
    s.caption = a.caption.value_or("");
    s.flags = a.flags.value_or(0);
    return s;
}

std::vector<store::Attachment> to_store(const std::vector<proto::AttachmentPointer>& list) {
    std::vector<store::Attachment> out;
    out.reserve(list.size());
    for (const auto& a : list) out.push_back(to_store(a));
    return out;
}

std::optional<store::Quote> to_store(const std::optional<proto::Quote>& q) {
    if (!q) return std::nullopt;
    auto author = SessionId::parse(q->author);
    if (!author) return std::nullopt;  // a quote of something we cannot name is kept as no quote
    if (q->id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return store::Quote{*author, static_cast<std::int64_t>(q->id), q->text.value_or("")};
}

json attachments_json(const std::vector<proto::AttachmentPointer>& list) {
    json out = json::array();
    for (const auto& a : list) {
        json j;
        j["id"] = a.id;
        j["url"] = a.url.value_or("");
        j["contentType"] = a.content_type.value_or("");
        j["fileName"] = a.file_name.value_or("");
        j["size"] = a.size.value_or(0);
        j["key"] = to_hex(a.key.value_or(Bytes{}));
        j["digest"] = to_hex(a.digest.value_or(Bytes{}));
        if (a.width) j["width"] = *a.width;
        if (a.height) j["height"] = *a.height;
        if (a.caption) j["caption"] = *a.caption;
        if (a.flags) j["flags"] = *a.flags;
        out.push_back(std::move(j));
    }
    return out;
}

std::string_view event_type(MessageKind kind) {
    switch (kind) {
        case MessageKind::text:
        case MessageKind::sync: return "message";
        case MessageKind::reaction: return "reaction";
        case MessageKind::receipt: return "receipt";
        case MessageKind::typing: return "typing";
        case MessageKind::unsend: return "unsend";
        case MessageKind::expiration_timer_update: return "expirationTimer";
        case MessageKind::data_extraction: return "dataExtraction";
        case MessageKind::message_request_response: return "messageRequestResponse";
        case MessageKind::call: return "call";
        case MessageKind::other: break;
    }
    return "other";
}

// Errors no later attempt can fix.
bool permanent(const Error& e) {
    return e.code == Errc::invalid_argument || e.code == Errc::envelope_too_large || e.code == Errc::key_invalid;
}

}  // namespace

ClientStore::ClientStore(std::shared_ptr<store::Store> db, std::shared_ptr<network::Network> net, SessionId self,
                         const ClientOptions& options)
        : db_(std::move(db)),
          net_(std::move(net)),
          self_(self),
          on_status_(options.on_send_status),
          events_(options.store_events),
          log_(options.log) {}

Result<std::optional<ReceiveState>> ClientStore::open_ledger(const std::string& state_path) {
    if (!state_path.empty()) {
        auto imported = db_->import_receive_state(state_path);
        if (!imported) return unexpected(std::move(imported).error());
        if (*imported != store::LedgerImport::no_file && log_)
            log_(network::LogLevel::info, "client: receive state " + state_path + " imported into the store " +
                                              db_->path() + " (the file was renamed to " + state_path + ".imported)");
    }
    return db_->load_receive_state();
}

void ClientStore::report(const store::OutboxEntry& entry, store::OutboxStatus status, const std::string& error) {
    if (!on_status_) return;
    on_status_(SendStatusUpdate{entry.hash, entry.recipient.hex(), entry.sent_ms, status, error});
}

namespace {
Result<void> status_event(store::Store& db, bool events, const store::OutboxEntry& e, store::OutboxStatus status,
                          const std::string& error, std::int64_t now_ms) {
    if (!events) return {};
    json j;
    j["hash"] = e.hash;
    j["recipient"] = e.recipient.hex();
    j["timestamp"] = e.sent_ms;
    j["status"] = std::string(store::to_string(status));
    if (!error.empty()) j["error"] = error;
    auto seq = db.append_event("sendStatus", dump(j), now_ms);
    if (!seq) return unexpected(std::move(seq).error());
    return {};
}
}  // namespace

Result<QueuedSend> ClientStore::enqueue(const Sealed& sealed, const SendSpec& spec, std::string_view body,
                                        const std::vector<proto::AttachmentPointer>& attachments,
                                        const std::optional<proto::Quote>& quote, std::int64_t now_ms) {
    store::NewOutboxEntry entry{.recipient = sealed.to,
                                .ns = retrieve::kDefaultNamespace,
                                .data = sealed.data,
                                .ttl_ms = spec.ttl.count(),
                                .sent_ms = sealed.timestamp_ms};
    store::Message m{.hash = "",
                     .conversation = sealed.to,
                     .sender = self_,
                     .sent_ms = sealed.timestamp_ms,
                     .stored_ms = 0,
                     .kind = MessageKind::text,
                     .body = std::string(body),
                     .attachments = to_store(attachments),
                     .quote = to_store(quote),
                     .expiration_type = spec.expiration_type,
                     .expiration_timer = spec.expiration_timer,
                     .status = store::MessageStatus::queued};
    std::optional<store::Enqueued> done;
    auto written = db_->transaction([&]() -> Result<void> {
        auto q = db_->enqueue(entry, m);
        if (!q) return unexpected(std::move(q).error());
        done = *q;
        if (!q->inserted) return {};
        store::OutboxEntry e{.hash = q->hash, .recipient = sealed.to, .ns = entry.ns, .data = {},
                             .ttl_ms = entry.ttl_ms, .sent_ms = entry.sent_ms};
        return status_event(*db_, events_, e, store::OutboxStatus::queued, "", now_ms);
    });
    if (!written) return unexpected(std::move(written).error());
    if (done->inserted) {
        store::OutboxEntry e{.hash = done->hash, .recipient = sealed.to, .ns = entry.ns, .data = {},
                             .ttl_ms = entry.ttl_ms, .sent_ms = entry.sent_ms};
        report(e, store::OutboxStatus::queued, "");
    }
    return QueuedSend{done->hash, sealed.timestamp_ms, sealed.timestamp_ms + spec.ttl.count()};
}

namespace {
// The swarm keeps a message until its own expiry, not a full TTL from this attempt. Never more
// than the TTL it was queued with: sent times are kept strictly increasing, so a burst of queued
// messages carries times a little ahead of the clock, and a swarm refuses (403) a TTL above its
// maximum.
std::int64_t remaining_ttl(const store::OutboxEntry& entry, std::int64_t now) {
    return std::clamp<std::int64_t>(entry.expires_at_ms() - now, kMinMessageTtl.count(),
                                    std::max<std::int64_t>(entry.ttl_ms, kMinMessageTtl.count()));
}
}  // namespace

Result<network::StoreResult> ClientStore::attempt(const store::OutboxEntry& entry) {
    std::vector<Result<network::StoreResult>> stored;
    stored.push_back(net_->store(entry.recipient, entry.ns, entry.data, remaining_ttl(entry, net_->now_ms())));
    const store::OutboxEntry* one[] = {&entry};
    if (auto ok = settle(one, stored); !ok) return unexpected(std::move(ok).error());
    return std::move(stored.front());
}

Result<void> ClientStore::settle(std::span<const store::OutboxEntry* const> entries,
                                 std::span<const Result<network::StoreResult>> results) {
    // What changed, reported (and logged) only once the transaction committed.
    struct Change {
        const store::OutboxEntry* entry;
        store::OutboxStatus status;
        std::string error;
        std::optional<std::int64_t> next_attempt_ms;  // set: due again then (still queued)
    };
    std::vector<Change> changes;
    const std::size_t n = std::min(entries.size(), results.size());
    const std::int64_t now = net_->now_ms();
    auto written = db_->transaction([&]() -> Result<void> {
        changes.clear();
        for (std::size_t i = 0; i < n; ++i) {
            const store::OutboxEntry& e = *entries[i];
            const Result<network::StoreResult>& r = results[i];
            if (r) {
                auto m = db_->mark_stored(e.hash, now);
                if (!m) return unexpected(std::move(m).error());
                if (!*m) continue;
                if (auto ok = status_event(*db_, events_, e, store::OutboxStatus::stored, "", now); !ok) return ok;
                changes.push_back({&e, store::OutboxStatus::stored, {}, std::nullopt});
            } else if (permanent(r.error())) {
                auto m = db_->mark_failed(e.hash, r.error().message);
                if (!m) return unexpected(std::move(m).error());
                if (!*m) continue;
                if (auto ok = status_event(*db_, events_, e, store::OutboxStatus::failed, r.error().message, now); !ok)
                    return ok;
                changes.push_back({&e, store::OutboxStatus::failed, r.error().message, std::nullopt});
            } else {
                auto later = db_->retry_later(e.hash, now, r.error().message);
                if (!later) return unexpected(std::move(later).error());
                if (*later) changes.push_back({&e, store::OutboxStatus::queued, r.error().message, **later});
            }
        }
        return {};
    });
    if (!written) return unexpected(std::move(written).error());
    for (const auto& c : changes) {
        if (c.next_attempt_ms) {
            if (log_)
                log_(network::LogLevel::info, "client: outbox: " + c.entry->hash + " not stored yet (" + c.error +
                                                  "); next attempt at " + std::to_string(*c.next_attempt_ms));
        } else {
            report(*c.entry, c.status, c.error);
        }
    }
    return {};
}

Result<OutboxRun> ClientStore::flush(std::size_t max) {
    OutboxRun run;
    const std::int64_t now = net_->now_ms();
    std::vector<store::OutboxEntry> expired;
    auto swept = db_->transaction([&]() -> Result<void> {
        auto ex = db_->expire_outbox(now);
        if (!ex) return unexpected(std::move(ex).error());
        expired = std::move(*ex);
        for (const auto& e : expired)
            if (auto ok = status_event(*db_, events_, e, store::OutboxStatus::expired, "TTL passed before it was stored", now); !ok)
                return ok;
        return {};
    });
    if (!swept) return unexpected(std::move(swept).error());
    for (const auto& e : expired) report(e, store::OutboxStatus::expired, "TTL passed before it was stored");
    run.expired = expired.size();

    auto due = db_->take_due(now, max, kOutboxLease);
    if (!due) return unexpected(std::move(due).error());
    // Entries for accounts of one swarm go out together, up to 20 in one `batch` request, whose
    // results are settled together in one transaction (one commit per batch, not per message);
    // the batches run concurrently (the Store serialises its own calls), so a backlog drains at
    // the network's pace, not one round trip per message.
    std::vector<std::string> keys;
    std::vector<std::size_t> placed;  // index into *due of keys[k]
    std::atomic<std::size_t> stored{0}, retrying{0};
    std::mutex failed_mu;
    std::optional<Error> store_failure;
    const auto settle_all = [&](std::span<const store::OutboxEntry* const> entries,
                                std::span<const Result<network::StoreResult>> results) {
        if (auto ok = settle(entries, results); !ok) {
            std::lock_guard lock(failed_mu);  // the store itself failed: the caller must know
            if (!store_failure) store_failure = std::move(ok).error();
            return;
        }
        for (std::size_t i = 0; i < std::min(entries.size(), results.size()); ++i) {
            if (results[i]) ++stored;
            else if (!permanent(results[i].error())) ++retrying;
        }
    };
    std::vector<const store::OutboxEntry*> no_swarm;
    std::vector<Result<network::StoreResult>> no_swarm_errors;
    for (std::size_t i = 0; i < due->size(); ++i) {
        auto sw = net_->get_swarm((*due)[i].recipient);
        if (!sw) {  // no swarm (no network): this entry waits for its next attempt
            no_swarm.push_back(&(*due)[i]);
            no_swarm_errors.push_back(unexpected(std::move(sw).error()));
            continue;
        }
        keys.push_back(sw->id ? std::to_string(*sw->id)
                              : (sw->nodes.empty() ? (*due)[i].recipient.hex() : sw->nodes.front().ed25519_hex()));
        placed.push_back(i);
    }
    if (!no_swarm.empty()) settle_all(no_swarm, no_swarm_errors);
    auto chunks = chunk_by_key(keys, network::kMaxBatchStores);
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t c; (c = next++) < chunks.size();) {
            std::vector<network::StoreItem> items;
            std::vector<const store::OutboxEntry*> entries;
            const std::int64_t at = net_->now_ms();
            for (auto k : chunks[c]) {
                const auto& e = (*due)[placed[k]];
                items.push_back({e.recipient, e.ns, e.data, remaining_ttl(e, at)});
                entries.push_back(&e);
            }
            auto results = net_->store_batch(items);
            settle_all(entries, results);
        }
    };
    const std::size_t workers = std::min(kOutboxParallel, chunks.size());
    std::vector<std::thread> pool;
    for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(work);
    if (workers > 0) work();
    for (auto& t : pool) t.join();
    if (store_failure) return unexpected(std::move(*store_failure));
    run.attempted = due->size();
    run.stored = stored;
    run.retrying = retrying;
    return run;
}

Result<void> ClientStore::apply(const ReceivedMessage& m, std::int64_t now_ms) {
    json ev;
    ev["sender"] = m.sender.hex();
    ev["timestamp"] = m.sent_timestamp_ms;
    ev["hash"] = m.hash;
    ev["kind"] = std::string(to_string(m.kind));
    ev["storedTimestamp"] = m.stored_timestamp_ms;
    bool emit = true;
    const auto* dm = m.content.data_message ? &*m.content.data_message : nullptr;

    if (m.display_name && !m.display_name->empty() && m.kind != MessageKind::sync) {
        if (auto ok = db_->set_display_name(m.sender, *m.display_name); !ok) return ok;
    }
    switch (m.kind) {
        case MessageKind::text:
        case MessageKind::sync: {
            std::optional<SessionId> conversation = m.sender;
            if (m.kind == MessageKind::sync) {
                conversation.reset();
                if (dm && dm->sync_target)
                    if (auto t = SessionId::parse(*dm->sync_target)) conversation = *t;
                if (conversation) ev["syncTarget"] = conversation->hex();
            }
            ev["body"] = m.body;
            ev["attachments"] = attachments_json(m.attachments);
            if (m.display_name) ev["displayName"] = *m.display_name;
            ev["expirationType"] = std::string(to_string(m.expiration_type));
            ev["expiresInSeconds"] = m.expiration_timer.count();
            if (dm && dm->quote) {
                json q;
                q["author"] = dm->quote->author;
                q["timestamp"] = dm->quote->id;
                if (dm->quote->text) q["text"] = *dm->quote->text;
                ev["quote"] = std::move(q);
            }
            if (!conversation) break;  // a sync copy without a target: an event only
            store::Message row{.hash = m.hash,
                               .conversation = *conversation,
                               .sender = m.sender,
                               .sent_ms = m.sent_timestamp_ms,
                               .stored_ms = m.stored_timestamp_ms,
                               .kind = m.kind,
                               .body = m.body,
                               .attachments = to_store(m.attachments),
                               .quote = to_store(dm ? dm->quote : std::nullopt),
                               .expiration_type = m.expiration_type,
                               .expiration_timer = m.expiration_timer,
                               .status = m.sender == self_ ? store::MessageStatus::sent : store::MessageStatus::received};
            auto inserted = db_->insert_message(row);
            if (!inserted) return unexpected(std::move(inserted).error());
            emit = *inserted;  // a hash already in history was handed out before
            break;
        }
        case MessageKind::reaction: {
            if (!dm || !dm->reaction) break;
            const auto& r = *dm->reaction;
            ev["targetAuthor"] = r.author;
            ev["targetTimestamp"] = r.id;
            ev["emoji"] = r.emoji.value_or("");
            ev["remove"] = r.action == proto::Reaction::Action::remove;
            auto author = SessionId::parse(r.author);
            if (author && r.id <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                auto ok = db_->apply_reaction(*author, static_cast<std::int64_t>(r.id), m.sender, r.emoji.value_or(""),
                                              r.action == proto::Reaction::Action::react);
                if (!ok) return unexpected(std::move(ok).error());
            }
            break;
        }
        case MessageKind::receipt: {
            if (!m.content.receipt_message) break;
            const auto& r = *m.content.receipt_message;
            ev["receiptType"] = r.type == proto::ReceiptMessage::Type::read ? "read" : "delivery";
            std::vector<std::int64_t> ts;
            for (auto t : r.timestamp)
                if (t <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                    ts.push_back(static_cast<std::int64_t>(t));
            ev["timestamps"] = ts;
            auto ok = db_->apply_receipt(m.sender, ts,
                                         r.type == proto::ReceiptMessage::Type::read ? store::Receipt::read
                                                                                      : store::Receipt::delivered);
            if (!ok) return unexpected(std::move(ok).error());
            break;
        }
        case MessageKind::typing:
            if (m.content.typing_message)
                ev["action"] = m.content.typing_message->action == proto::TypingMessage::Action::started ? "started"
                                                                                                        : "stopped";
            break;
        case MessageKind::unsend: {
            if (!m.content.unsend_request) break;
            const auto& u = *m.content.unsend_request;
            ev["targetAuthor"] = u.author;
            ev["targetTimestamp"] = u.timestamp;
            // Only the author may unsend (apply_unsend deletes only the requester's messages).
            if (u.author == m.sender.hex() &&
                u.timestamp <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                auto ok = db_->apply_unsend(m.sender, static_cast<std::int64_t>(u.timestamp));
                if (!ok) return unexpected(std::move(ok).error());
            }
            break;
        }
        default:
            break;
    }
    if (!events_ || !emit) return {};
    auto seq = db_->append_event(event_type(m.kind), dump(ev), now_ms);
    if (!seq) return unexpected(std::move(seq).error());
    return {};
}

Result<void> ClientStore::commit_page(std::span<const ReceivedMessage> messages, const ReceiveState& state,
                                      std::int64_t now_ms) {
    return db_->transaction([&]() -> Result<void> {
        for (const auto& m : messages)
            if (auto ok = apply(m, now_ms); !ok) return ok;
        return db_->save_receive_state(state);
    });
}

}  // namespace session::detail

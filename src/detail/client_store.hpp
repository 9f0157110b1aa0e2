#pragma once
// client_store.hpp (private): what a Client does with its opt-in store (ClientOptions::store).
//
//   outbox:  a send is sealed, then written to the store's outbox (with its outgoing message)
//            before any network I/O; flush() stores due entries in the recipient's swarm and marks
//            them stored, retries them later (the store's backoff), or lets their TTL pass. The same
//            sealed bytes hash the same, so a resend after a crash is never a duplicate.
//   receive: each page the Client hands out is committed in one transaction together with the
//            exactly-once ledger: the messages into history (reactions, receipts and unsends
//            applied), the conversation names, and, with ClientOptions::store_events, one durable
//            event per item. A crash leaves either all of a page or none of it.
//   ledger:  loaded from the store at create(); a ClientOptions::state_path file is imported once.
//
// Status changes (queued → stored / failed / expired) go to ClientOptions::on_send_status and,
// with store_events, to "sendStatus" events. Thread-safe (the Store serialises its calls).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "detail/receive_state.hpp"
#include "detail/sender.hpp"
#include "session/client.hpp"
#include "session/store.hpp"

namespace session::detail {

class ClientStore {
public:
    ClientStore(std::shared_ptr<store::Store> db, std::shared_ptr<network::Network> net, SessionId self,
                const ClientOptions& options);

    store::Store& db() { return *db_; }

    /// The ledger the Client starts with: `state_path` (if given and present) is imported once
    /// (renamed to PATH.imported), then the store's ledger is read. nullopt = nothing received yet.
    [[nodiscard]] Result<std::optional<ReceiveState>> open_ledger(const std::string& state_path);

    /// Commits one handed-out page (messages, plus the ledger `state`) in one transaction.
    [[nodiscard]] Result<void> commit_page(std::span<const ReceivedMessage> messages, const ReceiveState& state,
                                           std::int64_t now_ms);

    /// Writes a sealed send to the outbox (and history) before any network I/O.
    [[nodiscard]] Result<QueuedSend> enqueue(const Sealed& sealed, const SendSpec& spec, std::string_view body,
                                             const std::vector<proto::AttachmentPointer>& attachments,
                                             const std::optional<proto::Quote>& quote, std::int64_t now_ms);

    /// One store attempt of a queued entry, then its new status. Returns the network's answer, or
    /// its error (the entry then waits for a retry).
    [[nodiscard]] Result<network::StoreResult> attempt(const store::OutboxEntry& entry);

    /// Expires what outlived its TTL, then attempts up to `max` due entries: those for accounts of
    /// one swarm together, up to 20 in one `batch` request (Network::store_batch), up to 16
    /// requests at once; a batch's results are settled together in one transaction.
    [[nodiscard]] Result<OutboxRun> flush(std::size_t max);

private:
    /// Records the results of store attempts (results[i] of entries[i]) in one transaction: each
    /// stored, failed for good, or due again later (backoff), with its status event. The status
    /// reports (on_send_status) follow the commit, one per changed entry, in order. Returns the
    /// store's error when recording failed (then nothing was recorded: the entries stay queued
    /// and go out again after their lease, the same bytes).
    [[nodiscard]] Result<void> settle(std::span<const store::OutboxEntry* const> entries,
                                      std::span<const Result<network::StoreResult>> results);
    void report(const store::OutboxEntry& entry, store::OutboxStatus status, const std::string& error);
    [[nodiscard]] Result<void> apply(const ReceivedMessage& m, std::int64_t now_ms);

    std::shared_ptr<store::Store> db_;
    std::shared_ptr<network::Network> net_;
    SessionId self_;
    std::function<void(const SendStatusUpdate&)> on_status_;
    bool events_;
    network::LogFn log_;
};

}  // namespace session::detail

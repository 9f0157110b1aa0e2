#pragma once
// store.hpp: the local store (opt-in). One SQLite file per account holding
//   * messages in and out (history), with attachments, quotes, reactions, receipts and expiry;
//   * conversations (peer, display name, avatar, disappearing setting, request/approved);
//   * the outbox: every accepted send with its sealed bytes, retried until stored or its TTL passes;
//   * the receive ledger: the Client's exactly-once bookkeeping (what detail::ReceiveState holds);
//   * a durable event log (sequence numbers, replay, per-subscriber acknowledgement) for a daemon.
//
// Durability: every call that changes something is one transaction, committed before it returns
// (WAL journal; fsync per commit unless StoreOptions::sync_every_commit is false). transaction()
// groups several calls into one. A crash (kill -9, power loss with sync_every_commit) leaves every
// committed call and nothing of an uncommitted one.
//
// The outbox is keyed by the storage server's message hash of the sealed bytes
// (swarm::message_hash). The same bytes stored twice are one message on the swarm, so sending an
// entry again after a crash can never duplicate it for the recipient, and enqueuing the same bytes
// twice is one entry.
//
// File: created with mode 0600 (its -wal and -shm inherit that mode), never through a symbolic
// link, locked (flock on FILE.lock) so one Store at a time uses it, in this process or another.
// Errors name the file and what failed, never a message body, a key or a secret.
//
// Thread safety: one Store may be used from several threads: every call takes one mutex for its
// duration (one SQLite connection). transaction() holds it while its function runs, so calls from
// other threads wait; calls made by that function on the same thread join the transaction.
// Values returned are copies.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "session/bytes.hpp"
#include "session/envelope.hpp"
#include "session/error.hpp"
#include "session/keys.hpp"
#include "session/retrieve.hpp"

namespace session {
namespace detail {
struct ReceiveState;  // src/detail/receive_state.hpp: the Client's receive bookkeeping
}

namespace store {

/// The schema this library writes (PRAGMA user_version). Older files are migrated on open, one
/// version at a time; a newer file is refused (store_too_new).
///   1: conversations, messages (+ attachments, reactions), outbox, receive ledger
///   2: durable events (+ subscriber acknowledgements)
inline constexpr int kSchemaVersion = 2;
/// History kept by purge_expired(): a message's sent time plus this, the longest a swarm keeps a
/// 1:1 message (storage-server.md §4.7).
inline constexpr std::chrono::milliseconds kHistoryRetention{14LL * 24 * 60 * 60 * 1000};
/// The most messages list_messages() returns at once.
inline constexpr std::size_t kMaxPageSize = 1000;
/// The largest event payload append_event() accepts (bytes of JSON text).
inline constexpr std::size_t kMaxEventPayloadBytes = 1 << 20;

/// Whether `code` says the store itself failed: store_full, store_read_only, store_busy,
/// store_corrupt, store_too_new, or io_error (the file could not be read or written). Such an
/// error is about this machine, not the caller's input or the network; nothing of the failed
/// change was written.
[[nodiscard]] bool is_store_failure(Errc code) noexcept;

struct StoreOptions {
    /// How long a call waits for a lock held by another connection before store_busy.
    std::chrono::milliseconds busy_timeout{5'000};
    /// true: fsync every commit (PRAGMA synchronous=FULL): a commit survives power loss.
    /// false: synchronous=NORMAL: a commit survives a process crash, the last ones may be lost on
    /// power loss (the file stays consistent either way).
    bool sync_every_commit = true;
    /// 0 = no limit. Otherwise the file may not grow past this many bytes (rounded down to whole
    /// pages): a write that needs more fails with store_full and changes nothing.
    std::uint64_t max_size_bytes = 0;
    /// Outbox retry delays: after the n-th failed attempt an entry waits
    /// min(retry_max, retry_min * 2^(n-1)).
    std::chrono::milliseconds retry_min{1'000};
    std::chrono::milliseconds retry_max{5 * 60'000};
};

// ---- messages and conversations ---------------------------------------------------------------

/// Outgoing: queued → sent (stored by the swarm) or failed. Incoming: received → read.
enum class MessageStatus { queued, sent, failed, received, read };
/// What the peer reported about one of our outgoing messages (ReceiptMessage); only moves forward.
enum class Receipt { none, delivered, read };
/// A conversation that the peer started is a request until approved (by set_state or by sending).
enum class ConversationState { request, approved };
std::string_view to_string(MessageStatus s);
std::string_view to_string(Receipt r);
std::string_view to_string(ConversationState s);

/// An attachment pointer as received or sent, plus where its file was saved once downloaded.
struct Attachment {
    std::uint64_t id = 0;
    std::string url{};
    Bytes key{};     ///< the attachment's encryption key (kept in the store; never in an error)
    Bytes digest{};
    std::uint64_t size = 0;
    std::string content_type{};
    std::string file_name{};
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::string caption{};
    std::uint32_t flags = 0;
    std::string local_path{};  ///< "" = not downloaded
    bool operator==(const Attachment&) const = default;
};

/// The message a message quotes (DataMessage.quote): its author and sent timestamp identify it.
struct Quote {
    SessionId author;
    std::int64_t timestamp_ms;
    std::string text{};
    bool operator==(const Quote&) const = default;
};

struct Reaction {
    SessionId reactor;
    std::string emoji{};
    bool operator==(const Reaction&) const = default;
};

struct Message {
    std::string hash{};          ///< storage hash (43 base64 characters): the message's key here
    SessionId conversation;    ///< the peer ("05…"); our own ID for Note to Self
    SessionId sender;          ///< the author (our own ID for outgoing messages)
    std::int64_t sent_ms;      ///< Envelope.timestamp: with `sender`, the message's protocol identity
    std::int64_t stored_ms = 0;  ///< the swarm's store timestamp (outgoing: set by mark_stored)
    MessageKind kind = MessageKind::text;
    std::string body{};
    std::vector<Attachment> attachments{};
    std::optional<Quote> quote{};
    ExpirationType expiration_type = ExpirationType::none;
    std::chrono::seconds expiration_timer{0};
    MessageStatus status = MessageStatus::received;
    // Filled by the store (ignored by insert_message):
    bool outgoing = false;                    ///< sender is the store's account
    std::optional<std::int64_t> expires_at_ms{};  ///< when purge_expired() deletes it (disappearing)
    std::optional<std::int64_t> read_ms{};        ///< when it became read (incoming)
    Receipt receipt = Receipt::none;          ///< outgoing: what the peer reported
    std::vector<Reaction> reactions{};          ///< oldest first
    std::string error{};                        ///< outgoing, failed: why (the outbox's last error)
    std::int64_t row_id = 0;                  ///< local row number: with sent_ms, a page cursor
};

/// A position in a conversation's timeline: messages are ordered by (sent_ms, row_id), so a
/// cursor stays valid however many messages arrive or are deleted around it.
struct MessageCursor {
    std::int64_t sent_ms = 0;
    std::int64_t row_id = 0;
    /// "sent_ms.row_id", for programs that hand cursors out as strings.
    std::string token() const;
    /// Errors: invalid_argument (not two decimal numbers joined by '.').
    [[nodiscard]] static Result<MessageCursor> parse(std::string_view token);
    bool operator==(const MessageCursor&) const = default;
};

enum class Order { newest_first, oldest_first };

struct MessageQuery {
    std::optional<MessageCursor> after{};  ///< start after this position (in `order`); none = from the end
    std::size_t limit = 50;              ///< 1..kMaxPageSize
    Order order = Order::newest_first;
};

struct MessagePage {
    std::vector<Message> messages{};
    std::optional<MessageCursor> next{};  ///< pass as `after` for the next page; none = this was the last
};

struct Avatar {
    std::string url{};
    Bytes key{};               ///< the profile key that decrypts the avatar
    std::string local_path{};  ///< "" = not downloaded
    bool operator==(const Avatar&) const = default;
};

struct Conversation {
    SessionId peer;
    std::string display_name{};  ///< "" = unknown
    std::optional<Avatar> avatar{};
    ExpirationType expiration_type = ExpirationType::none;
    std::chrono::seconds expiration_timer{0};
    ConversationState state = ConversationState::request;
    // Filled by the store:
    std::size_t unread = 0;               ///< incoming messages still `received`
    std::int64_t last_message_ms = 0;     ///< newest message's sent_ms (0 = none)
};

/// What a deletion removed: the callers delete downloaded attachment files themselves.
struct Removed {
    std::vector<std::string> hashes{};
    std::vector<std::string> attachment_paths{};  ///< local_path of removed attachments ("" omitted)
};

// ---- outbox -------------------------------------------------------------------------------------

enum class OutboxStatus { queued, stored, failed, expired };
std::string_view to_string(OutboxStatus s);

struct OutboxEntry {
    std::string hash{};      ///< swarm::message_hash(recipient, ns, decoded data): the key
    SessionId recipient;   ///< whose swarm stores it
    std::int16_t ns = 0;   ///< namespace
    std::string data{};      ///< the sealed envelope, base64, exactly as `store` sends it
    std::int64_t ttl_ms;
    std::int64_t sent_ms;  ///< the message's timestamp
    // Filled by the store:
    OutboxStatus status = OutboxStatus::queued;
    std::uint32_t attempts = 0;       ///< times handed out by take_due()
    std::int64_t next_attempt_ms = 0;  ///< 0 for a new entry: due at once
    std::string last_error{};
    std::int64_t expires_at_ms() const { return sent_ms + ttl_ms; }
};

struct NewOutboxEntry {
    SessionId recipient;
    std::int16_t ns = 0;
    std::string data{};  ///< base64 of the sealed bytes
    std::int64_t ttl_ms;
    std::int64_t sent_ms;
};

struct Enqueued {
    std::string hash{};
    bool inserted;         ///< false: these bytes were already queued (or stored): nothing changed
    OutboxStatus status;   ///< the entry's status now
};

// ---- receive ledger -------------------------------------------------------------------------------

/// One delivered hash: detail::ReceiveState::Item.
struct LedgerItem {
    std::string hash{};
    std::uint64_t seq;
    std::int64_t expiry_ms;
};
/// A resume point per returned last_hash: detail::ReceiveState::Cursor.
struct LedgerCursor {
    std::string last_hash{};
    std::string base{};
    retrieve::NodeCursor nodes{};  ///< swarm member → its last hash (the member key as hex on disk)
};
/// What one receive page changes, written in one transaction (cost proportional to the page).
struct LedgerPage {
    std::vector<LedgerItem> delivered{};     ///< added or replaced by hash
    std::uint64_t next_seq;                ///< the next number to hand out
    std::optional<LedgerCursor> cursor{};    ///< put_cursor()
    std::string latest{};                    ///< the newest last_hash ("" = unchanged)
    std::size_t max_cursors = 256;         ///< oldest cursors beyond this are dropped
};
/// What import_receive_state() did.
enum class LedgerImport {
    no_file,     ///< nothing at that path
    imported,    ///< the file's state is now the store's ledger; the file was renamed to PATH.imported
    kept_store,  ///< the store already had a ledger (an earlier import): it was kept, the file renamed
};

// ---- events -------------------------------------------------------------------------------------

struct Event {
    std::uint64_t seq;     ///< strictly increasing, never reused (even after pruning)
    std::string type{};      ///< e.g. "message", "sendStatus"
    std::string payload{};   ///< JSON text
    std::int64_t time_ms;
};

struct StoreStats {
    std::uint64_t messages = 0;
    std::uint64_t conversations = 0;
    std::uint64_t outbox_queued = 0;
    std::uint64_t events = 0;
    std::uint64_t file_bytes = 0;     ///< pages in use × page size (the WAL not included)
    std::int64_t sqlite_memory_bytes = 0;  ///< sqlite3_memory_used(): every connection in the process
};

class Store {
public:
    /// Opens (creating if needed) the store at `path` for `account`. Creates the file with mode
    /// 0600 (tightens a wider mode of an existing file), refuses a symbolic link, takes the lock,
    /// sets WAL and the busy timeout, and migrates an older schema.
    /// Errors: store_read_only (the directory or file is not writable), store_busy (another Store
    /// holds FILE.lock), store_corrupt (not an SQLite file, damaged, or another program's
    /// database), store_too_new (written by a newer version), invalid_argument (a store of another
    /// account; a symbolic link), store_full, io_error (anything else, with the system's reason).
    [[nodiscard]] static Result<Store> open(const std::string& path, const SessionId& account,
                                            const StoreOptions& options = {});

    Store(Store&&) noexcept;
    Store& operator=(Store&&) noexcept;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    ~Store();

    const std::string& path() const;
    const SessionId& account() const;
    /// The file's schema version (kSchemaVersion once open).
    [[nodiscard]] Result<int> schema_version() const;

    /// Runs `fn` in one transaction: every call it makes on this Store (on this thread) commits
    /// with it or not at all. Commits when fn returns a value; rolls back when it returns an error
    /// (returned) or throws (rethrown). Nested calls (transaction() inside fn) are savepoints.
    [[nodiscard]] Result<void> transaction(const std::function<Result<void>()>& fn);

    // -- messages --

    /// Adds `m` (hash, conversation, sender, sent_ms, stored_ms, kind, body, attachments, quote,
    /// disappearing, status). Returns false, changing nothing, when the hash is already stored
    /// (a message received twice). Creates the conversation if needed (a request when the peer
    /// wrote first; approved by an outgoing message). after_send messages expire at
    /// sent_ms + timer; after_read ones when read (outgoing ones: at sent_ms + timer, as their
    /// author has read them).
    /// Errors: invalid_argument (hash not 43 base64 characters; a status of the other direction:
    /// outgoing is queued/sent/failed, incoming received/read).
    [[nodiscard]] Result<bool> insert_message(const Message& m);
    [[nodiscard]] Result<std::optional<Message>> message(std::string_view hash) const;
    /// A conversation's messages, a page at a time (see MessageQuery). Errors: invalid_argument
    /// (limit 0 or over kMaxPageSize).
    [[nodiscard]] Result<MessagePage> list_messages(const SessionId& conversation, const MessageQuery& query = {}) const;
    /// Marks the incoming messages of `conversation` sent at or before `up_to_sent_ms` read at
    /// `now_ms`; after_read ones then expire at now_ms + timer. Returns their sent timestamps
    /// (oldest first), e.g. for a read receipt.
    [[nodiscard]] Result<std::vector<std::int64_t>> mark_read(const SessionId& conversation, std::int64_t up_to_sent_ms,
                                                              std::int64_t now_ms);
    /// An UnsendRequest from `requester` for its message sent at `sent_ms`: deletes the message(s)
    /// with that sender and timestamp, and only those (nobody can unsend another's message). A
    /// queued outbox entry of a deleted message fails ("unsent") instead of being sent.
    [[nodiscard]] Result<Removed> apply_unsend(const SessionId& requester, std::int64_t sent_ms);
    /// Deletes one message (delete for me). Returns what was removed (empty if unknown).
    [[nodiscard]] Result<Removed> delete_message(std::string_view hash);
    /// A reaction by `reactor` on the message (author, timestamp); `add` false removes it.
    /// Returns false if no such message is stored.
    [[nodiscard]] Result<bool> apply_reaction(const SessionId& author, std::int64_t timestamp_ms,
                                              const SessionId& reactor, std::string_view emoji, bool add);
    /// A ReceiptMessage from `peer` about our messages sent at `timestamps`: moves their receipt
    /// state forward to `state` (never back). Returns how many changed.
    [[nodiscard]] Result<std::size_t> apply_receipt(const SessionId& peer, std::span<const std::int64_t> timestamps,
                                                    Receipt state);
    /// Records where attachment number `index` (0-based) of message `hash` was saved.
    /// Returns false if there is no such attachment.
    [[nodiscard]] Result<bool> set_attachment_path(std::string_view hash, std::size_t index, std::string_view local_path);
    /// Deletes disappearing messages whose expiry is at or before `now_ms` and every message sent
    /// before now_ms - max_age.
    [[nodiscard]] Result<Removed> purge_expired(std::int64_t now_ms,
                                                std::chrono::milliseconds max_age = kHistoryRetention);

    // -- conversations (each setter creates the conversation if needed) --

    [[nodiscard]] Result<std::optional<Conversation>> conversation(const SessionId& peer) const;
    /// Most recent activity first (then by peer), at most `limit`.
    [[nodiscard]] Result<std::vector<Conversation>> list_conversations(std::size_t limit = 1000) const;
    [[nodiscard]] Result<void> set_display_name(const SessionId& peer, std::string_view name);
    [[nodiscard]] Result<void> set_avatar(const SessionId& peer, const std::optional<Avatar>& avatar);
    /// Errors: invalid_argument (seconds must be 0 exactly when mode is none).
    [[nodiscard]] Result<void> set_disappearing(const SessionId& peer, ExpirationType type, std::chrono::seconds timer);
    [[nodiscard]] Result<void> set_state(const SessionId& peer, ConversationState state);
    /// Deletes the conversation and all its messages.
    [[nodiscard]] Result<Removed> delete_conversation(const SessionId& peer);

    // -- outbox --

    /// Writes an accepted send before any network I/O: the entry (status queued, due now) and, if
    /// given, the outgoing message it carries (status queued; its hash must be "" or the entry's),
    /// in one transaction. Enqueuing bytes already in the outbox changes nothing (inserted false).
    /// Errors: invalid_argument (data not base64 or empty, ttl_ms not positive, message not
    /// outgoing or of another hash).
    [[nodiscard]] Result<Enqueued> enqueue(const NewOutboxEntry& entry, const std::optional<Message>& message = {});
    [[nodiscard]] Result<std::optional<OutboxEntry>> outbox_entry(std::string_view hash) const;
    /// Up to `max` queued entries due at `now_ms` (next attempt reached, TTL not passed), oldest
    /// due first. Each is counted as an attempt and not due again for `lease` unless marked: a
    /// sender that crashes mid-send sends it again after the lease (the same bytes: no duplicate).
    [[nodiscard]] Result<std::vector<OutboxEntry>> take_due(std::int64_t now_ms, std::size_t max,
                                                            std::chrono::milliseconds lease = std::chrono::seconds(60));
    /// The swarm stored it: status stored; the message with this hash becomes sent, stored_ms =
    /// `stored_ms`. Returns false if the entry is unknown or was not queued.
    [[nodiscard]] Result<bool> mark_stored(std::string_view hash, std::int64_t stored_ms);
    /// A temporary failure: due again after the backoff (StoreOptions::retry_min/retry_max, by
    /// attempts so far). Returns the next attempt time, or nullopt if the entry is not queued.
    [[nodiscard]] Result<std::optional<std::int64_t>> retry_later(std::string_view hash, std::int64_t now_ms,
                                                                  std::string_view error);
    /// A permanent failure: status failed, the message failed with `error`. False if not queued.
    [[nodiscard]] Result<bool> mark_failed(std::string_view hash, std::string_view error);
    /// Queued entries whose TTL passed at `now_ms` become expired (their messages failed); they
    /// are returned. Entries of any status past their TTL are then deleted (the swarm has dropped
    /// them, so their hashes no longer matter).
    [[nodiscard]] Result<std::vector<OutboxEntry>> expire_outbox(std::int64_t now_ms);

    // -- receive ledger (the Client's exactly-once bookkeeping; see detail/receive_state.hpp) --

    /// The ledger as the JSON backend would load it; nullopt before the first save or record.
    /// `account` is the store's.
    [[nodiscard]] Result<std::optional<detail::ReceiveState>> load_receive_state() const;
    /// Replaces the whole ledger with `state`. Errors: invalid_argument (another account, a
    /// malformed hash).
    [[nodiscard]] Result<void> save_receive_state(const detail::ReceiveState& state);
    /// Adds one page's delivered hashes, its cursor and latest hash. Errors: invalid_argument.
    [[nodiscard]] Result<void> record_receive_page(const LedgerPage& page);
    /// Adds or replaces one cursor (an existing one keeps its age), dropping the oldest beyond
    /// `max_cursors`.
    [[nodiscard]] Result<void> put_cursor(const LedgerCursor& cursor, std::size_t max_cursors);
    /// Forgets delivered hashes whose expiry_ms is before `cutoff_ms`. Returns how many.
    [[nodiscard]] Result<std::size_t> prune_ledger(std::int64_t cutoff_ms);
    /// One-time migration from a ClientOptions::state_path file (parsed by the JSON backend): see
    /// LedgerImport. The file is renamed aside only after the import committed.
    /// Errors: as detail::load_receive_state, invalid_argument (another account), io_error (rename).
    [[nodiscard]] Result<LedgerImport> import_receive_state(const std::string& json_path);

    // -- durable events --

    /// Appends an event; returns its sequence number. Errors: invalid_argument (type empty, payload
    /// not JSON or over kMaxEventPayloadBytes).
    [[nodiscard]] Result<std::uint64_t> append_event(std::string_view type, std::string_view payload_json,
                                                     std::int64_t time_ms);
    /// Events with seq > `after_seq`, oldest first, at most `max`.
    [[nodiscard]] Result<std::vector<Event>> events_after(std::uint64_t after_seq, std::size_t max) const;
    /// The newest event's sequence number (0 = none ever).
    [[nodiscard]] Result<std::uint64_t> last_event_seq() const;
    /// Records that `subscriber` processed every event up to `seq` (an acknowledgement never moves
    /// back). Errors: invalid_argument (empty name; seq beyond last_event_seq()).
    [[nodiscard]] Result<void> ack_events(std::string_view subscriber, std::uint64_t seq);
    /// The subscriber's acknowledged seq; nullopt if it never acknowledged.
    [[nodiscard]] Result<std::optional<std::uint64_t>> acked_seq(std::string_view subscriber) const;
    /// Forgets a subscriber (its acknowledgements no longer hold events back).
    [[nodiscard]] Result<void> remove_subscriber(std::string_view subscriber);
    /// Deletes events every known subscriber acknowledged (none when there is no subscriber) and
    /// events older than now_ms - retention whoever has not seen them. Returns how many.
    [[nodiscard]] Result<std::size_t> prune_events(std::int64_t now_ms, std::chrono::milliseconds retention);

    [[nodiscard]] Result<StoreStats> stats() const;

private:
    struct Impl;
    explicit Store(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace store
}  // namespace session

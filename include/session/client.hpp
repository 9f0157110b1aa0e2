#pragma once
// client.hpp: the facade. One Session account, from its 13-word phrase: send a 1:1 message, receive
// what the swarm holds for us.
//
//   send:    Content{DataMessage{body, attachments, profile}, expiration, sigTimestamp = t}
//            → envelope::seal → store(recipient swarm, namespace 0, ttl) via one onion request
//   receive: signed retrieve of namespace 0 from 2 swarm members (re-issued while `more`), hashes
//            checked, merged, de-duplicated by hash → envelope::open each → signed time checked →
//            messages + skipped items with reasons; bounded in bytes, items and time per call
//
// Modelled on pysession-client's Client(mnemonic).send/.receive(last_hash) and session.js's
// Session.sendMessage (clients.md §1.2, §2), with session-desktop's robustness (clients.md §3):
// network time for timestamps, 2-node polling with per-node last_hash, 421 recovery.
//
// Thread safety: every member function may be called from several threads at once on one Client
// (sends run concurrently; receives are serialised with each other only while cursor state is
// read/written, never across network I/O). Callbacks (log) may run on any calling thread.
// The library never prints; a phrase or key never appears in a message, log line or exception.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "session/attachment.hpp"
#include "session/conversation.hpp"
#include "session/envelope.hpp"
#include "session/error.hpp"
#include "session/keys.hpp"
#include "session/network.hpp"
#include "session/proto_wire.hpp"
#include "session/retrieve.hpp"
#include "session/rng.hpp"
#include "session/store.hpp"

namespace session {

/// A change of an outbox entry's status (ClientOptions::on_send_status): queued when accepted,
/// then stored (the swarm has it), failed (a permanent error) or expired (its TTL passed unsent).
struct SendStatusUpdate {
    std::string hash;             ///< the entry's storage hash (= the message's hash)
    std::string recipient;        ///< "05…"
    std::int64_t timestamp_ms;    ///< the message's sent timestamp
    store::OutboxStatus status;
    std::string error{};          ///< why it failed or why the last attempt failed ("" otherwise)
};

/// What Client::queue wrote: the message is safe in the store's outbox.
struct QueuedSend {
    std::string hash;           ///< the storage hash it will have in the swarm
    std::int64_t timestamp_ms;  ///< its sent timestamp (Envelope.timestamp = sigTimestamp)
    std::int64_t expiry_ms;     ///< after this it is no longer sent (timestamp + ttl)
};

/// What one Client::flush_outbox call did.
struct OutboxRun {
    std::size_t attempted = 0;  ///< entries handed to the network
    std::size_t stored = 0;     ///< now stored by the swarm
    std::size_t retrying = 0;   ///< failed this time; due again after the backoff
    std::size_t expired = 0;    ///< TTL passed before they could be stored
};

/// TTL of a 1:1 message in the swarm: 14 days, the maximum for namespace 0 (storage-server.md §4.7;
/// session-desktop TTL_DEFAULT.CONTENT_MESSAGE).
inline constexpr std::chrono::milliseconds kDefaultMessageTtl{14LL * 24 * 60 * 60 * 1000};
/// The smallest TTL the storage server accepts (storage-server.md §4.7).
inline constexpr std::chrono::milliseconds kMinMessageTtl{10'000};

/// How far clocks may disagree about a signed send time, either way: a sender's clock, and our
/// network time (the median of nodes' clocks, bounded by the network layer).
inline constexpr std::chrono::milliseconds kSignedTimeSlack{24LL * 60 * 60 * 1000};
/// receive() refuses a message signed longer ago than this (the longest time a swarm keeps a 1:1
/// message, kDefaultMessageTtl = 14 days, plus kSignedTimeSlack): it cannot be a message the
/// swarm still holds, only an old one replayed under a new hash (SkippedItem: receive_too_old).
inline constexpr std::chrono::milliseconds kMaxSignedAge = kDefaultMessageTtl + kSignedTimeSlack;
/// receive() refuses a message signed further ahead of our network time than this: a day for a
/// sender whose clock is wrong, plus kSignedTimeSlack for ours (SkippedItem: receive_too_new).
inline constexpr std::chrono::milliseconds kMaxSignedAhead = std::chrono::milliseconds{24LL * 60 * 60 * 1000} + kSignedTimeSlack;

/// Default ClientOptions::receive_max_bytes: 64 MiB of retrieve answers per call. About eight of
/// the server's fullest pages (7.8 MB), so a normal backlog is read in one call, while a hostile
/// member cannot make one receive() hold more than this (plus one page per member asked at once).
inline constexpr std::size_t kDefaultReceiveMaxBytes = 64 * 1024 * 1024;
/// Default ClientOptions::receive_max_items: 20,000 items per call, i.e. a 10,000-message backlog
/// read from each of the 2 polled members. Each item costs a hash check, an envelope opening (about
/// 0.1 ms of CPU) and ~100 bytes of exactly-once bookkeeping until it expires.
inline constexpr std::size_t kDefaultReceiveMaxItems = 20'000;
/// Default ClientOptions::max_batches_in_flight: enough batches of 20 stores to fill the onion paths,
/// few enough that no swarm member or guard is sent hundreds of connections at once (measured in
/// docs/performance.md: on the local network, 48 was no faster than 24; the cores were the limit).
inline constexpr std::size_t kDefaultMaxBatchesInFlight = 24;
/// Default ClientOptions::receive_timeout: 60 s per call, six retrieve timeouts (desktop polls with
/// 10 s requests every 5 s): enough for a large backlog over onion paths, short enough that a bot's
/// loop is never held by a member that answers slowly page after page.
inline constexpr std::chrono::milliseconds kDefaultReceiveTimeout{60'000};

/// What a Client adds to the network it runs on. The network itself (mainnet or a local network,
/// timeouts, paths, transport, pool cache, clock offset) is a network::Network, chosen once: pass
/// one to Client::create, or let the mainnet overloads build one with network::Options{}.
struct ClientOptions {
    /// Sent as the LokiProfile display name in every message, as the official client does, so the
    /// recipient sees a name instead of a bare Session ID. Empty = no profile is sent.
    std::string display_name{};
    /// The Client's own log lines (never secrets). Default: silent. (The Network logs through
    /// network::Options::log.)
    network::LogFn log{};
    std::shared_ptr<Clock> clock{};  ///< measures receive_timeout; default system_clock(); thread-safe
    std::shared_ptr<Rng> rng{};      ///< which swarm members receive() polls; default system_rng(); thread-safe
    /// Swarm members whose answers each receive() merges (desktop: 2).
    std::size_t poll_nodes = retrieve::kPollNodes;
    /// `max_count` per retrieve page; 0 = the server's default byte budget. receive() re-issues
    /// while a node says `more`, so this only changes how many requests a large backlog takes.
    std::int64_t retrieve_page_size = 0;
    /// Limits of one receive() or receive_pages() call, so that no swarm member (broken or
    /// hostile: endless pages of fresh junk, huge pages, slow answers) can make a call hold
    /// unbounded memory, work or time. Once the bytes or items reach their limit, no member's
    /// `more` is followed further (a member not asked yet still gets one request, so each call
    /// makes progress); after the timeout no request starts. The call then returns what was
    /// gathered: ReceiveResult::truncated (ReceiveSummary::truncated) says which limit, and its
    /// last_hash continues exactly after it (nothing lost, nothing repeated). Each must be > 0
    /// (invalid_argument at create()).
    /// Bytes of retrieve answers received per call: at most this plus one page (10 MiB,
    /// retrieve::kMaxPageBytes) per member asked.
    std::size_t receive_max_bytes = kDefaultReceiveMaxBytes;
    /// Items the members returned per call (forged and repeated ones included): at most this plus
    /// one page per member asked.
    std::size_t receive_max_items = kDefaultReceiveMaxItems;
    /// No retrieve is started later than this after the call began (one already started runs to
    /// the network's retrieve_timeout). Measured with `clock`.
    std::chrono::milliseconds receive_timeout = kDefaultReceiveTimeout;
    /// Most `batch` requests (up to 20 stores each) that send_many, broadcast and the send queue
    /// (send_async, send_many_async) keep in flight at once; the others wait for a free slot.
    /// send_many and broadcast count their own calls' batches, the queue its batches for the
    /// Client. Must be > 0 (invalid_argument at create()).
    std::size_t max_batches_in_flight = kDefaultMaxBatchesInFlight;
    /// Keep receive()'s exactly-once bookkeeping in this file, so a restarted process that passes
    /// its saved last_hash never gets an item twice, even from a member that missed that message.
    /// Holds message hashes, swarm member keys and our Session ID, never content or keys; written
    /// atomically (mode 0600) after each receive() and each receive_pages() page that changed it.
    /// One Client at a time per file: it is locked (flock on FILE.lock) while the Client lives.
    /// Default: memory only (see receive() for what that means after a restart). Errors at
    /// create(): io_error, invalid_argument (corrupt, another account's file, or in use by another
    /// Client); a receive whose state cannot be written fails with io_error.
    std::string state_path{};
    /// A profile picture sent with every message (LokiProfile.profilePicture + DataMessage.profileKey,
    /// as the official client does): a path or the bytes (one of them). It is encrypted with a random
    /// 32-byte profile key (AES-256-GCM, desktop's profile picture format), uploaded on the first send
    /// and again before the file server's expiry. At most kMaxPlaintextBytes.
    std::string avatar_path{};
    std::optional<Bytes> avatar_bytes{};
    /// Opt-in local store (session/store.hpp), opened by the caller for this account (one Store may
    /// be shared with the caller, who reads history and events from it). With a store:
    ///   * queue() writes a sealed send to its outbox before any network I/O; flush_outbox() (or
    ///     the next send()) stores it, retrying with the store's backoff across restarts until the
    ///     swarm has it or its TTL passes; send() goes through the outbox too (a send that fails
    ///     for a network reason stays queued and is retried by flush_outbox()).
    ///   * every page receive()/receive_pages() hands out is committed to history together with the
    ///     exactly-once ledger (one transaction), so history and ledger never disagree after a crash.
    ///   * the ledger lives in the store; state_path, if also given, is imported once (the file is
    ///     then renamed to FILE.imported) and not written again.
    /// Errors at create(): invalid_argument (a store of another account), store_*.
    std::shared_ptr<store::Store> store{};
    /// With a store: called on every outbox status change (on the thread that caused it).
    std::function<void(const SendStatusUpdate&)> on_send_status{};
    /// With a store: also append durable events (store::Store::append_event) for every received
    /// item ("message", "reaction", "receipt", "typing", "unsend", …) and every send status change
    /// ("sendStatus"), in the same transaction as the change. docs/daemon.md lists their JSON.
    bool store_events = false;
};

// ---- attachments (protocol.md §3.5, §6; see Client::send_files) ------------------------------

/// A file to send. Exactly one source: `path` (read from disk in pieces), `data` (in memory) or
/// `stream` (read once; for the stream scheme it must be seekable, as the key is derived from
/// the whole file first). The other fields go into the AttachmentPointer.
struct AttachmentSource {
    std::string path{};
    std::optional<Bytes> data{};
    std::shared_ptr<std::istream> stream{};
    std::string content_type{};                 ///< MIME type; default "application/octet-stream"
    std::string file_name{};                    ///< sent to the recipient; default: path's file name
    std::optional<std::uint32_t> width{};       ///< images and videos
    std::optional<std::uint32_t> height{};
    bool voice_note = false;                    ///< AttachmentPointer.flags VOICE_MESSAGE

    static AttachmentSource from_path(std::string path) { AttachmentSource s; s.path = std::move(path); return s; }
    static AttachmentSource from_bytes(Bytes data, std::string file_name = {}) {
        AttachmentSource s;
        s.data = std::move(data);
        s.file_name = std::move(file_name);
        return s;
    }
};

/// Progress of one attachment's upload or download: `done` of `total` bytes (total may be 0 when
/// unknown). Uploads report while a file is encrypted and when the upload has finished; downloads
/// when the blob has arrived and while it is decrypted. Called on the working thread (uploads of
/// several files run in parallel: `index` says which file); it should return quickly.
struct AttachmentProgress {
    std::size_t index = 0;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    enum class Stage { encrypting, uploading, uploaded, downloading, decrypting, done } stage = Stage::encrypting;
};
using ProgressFn = std::function<void(const AttachmentProgress&)>;

struct AttachmentOptions {
    /// What current session-desktop sends: the legacy AES-CBC + HMAC blob with a digest
    /// (attachment::Scheme::cbc_hmac). attachment::Scheme::stream sends the deterministic 'S'
    /// scheme (a `#d` URL, key derived from our seed and the file). gcm is refused (profile pictures only).
    attachment::Scheme scheme = attachment::Scheme::cbc_hmac;
    ProgressFn progress{};
    /// Files uploaded at once (each is up to ~20 MB of memory while it is encrypted and sent).
    std::size_t parallel_uploads = 3;
};

/// Where a downloaded attachment went.
struct DownloadResult {
    std::uint64_t size = 0;          ///< plaintext bytes
    std::string path{};              ///< download_attachment_to: the file written
};

struct SendOptions {
    /// How long the swarm keeps the message, 10 s … 14 days. Default: 14 days, or the timer for
    /// delete_after_send (as session-desktop does, so the swarm drops it when it disappears).
    std::optional<std::chrono::milliseconds> ttl{};
    ExpirationType expiration_type = ExpirationType::none;
    /// The disappearing timer; must be > 0 exactly when expiration_type != none.
    std::chrono::seconds expiration_timer{0};
    /// Already-uploaded attachment pointers (file-server URL, key, digest, size…), sent as
    /// DataMessage.attachments. From upload_attachment(), or use send_files().
    std::vector<proto::AttachmentPointer> attachments{};
    /// Also store a copy in our own swarm with DataMessage.syncTarget = recipient, as
    /// session-desktop does so your other devices show the sent message (they see it as
    /// MessageKind::sync). Costs one more store (plus a swarm lookup the first time). Ignored for
    /// Note to Self. A failed copy does not fail the send: see SendResult::sync_error.
    bool sync_copy = false;
};

struct SendResult {
    std::string hash;            ///< storage hash of the stored message (storage-server.md §7)
    std::int64_t timestamp_ms;   ///< the sent timestamp (network time): Envelope.timestamp = sigTimestamp
    std::int64_t expiry_ms;      ///< when the swarm drops it
    /// Each swarm member's answer (confirmed, signature checked, expiry, or why it failed).
    std::vector<network::StoreNodeResult> nodes;
    /// Members that confirmed the hash with a valid signature (>= 1 on success).
    std::size_t confirmed() const {
        std::size_t n = 0;
        for (const auto& r : nodes) n += r.ok ? 1 : 0;
        return n;
    }
    /// With SendOptions::sync_copy: the copy's hash in our own swarm, or why it failed.
    std::optional<std::string> sync_hash{};
    std::optional<Error> sync_error{};
};

struct ReceivedMessage {
    SessionId sender;             ///< from the signed Ed25519 key inside the envelope, never Envelope.source
    MessageKind kind;
    std::string body;             ///< DataMessage.body ("" if absent)
    std::string hash;             ///< storage hash: a stable identity for de-duplication
    /// When the sender sent it (its network time), from signed data only: Content.sigTimestamp
    /// (envelope::open checks it equals Envelope.timestamp). A legacy sender without one (e.g.
    /// pysession-client) is read from DataMessage.timestamp, which sits in the same signed Content.
    /// The unsigned Envelope.timestamp is never used alone: anyone relaying a message can change
    /// it, so a message with no signed time is skipped (receive_no_signed_time) rather than given
    /// a time, and identity, that a node chose. (sender, sent_timestamp_ms) names the message in
    /// the protocol (quotes, reactions, receipts, unsend); receive() hands each pair out once.
    std::int64_t sent_timestamp_ms;
    std::int64_t stored_timestamp_ms;  ///< the `timestamp` the sender gave to `store`
    std::int64_t expiry_ms;            ///< when the swarm drops it
    ExpirationType expiration_type;    ///< disappearing mode the sender set
    std::chrono::seconds expiration_timer;  ///< disappearing timer (0 = none)
    std::vector<proto::AttachmentPointer> attachments;  ///< download with Client::download_attachment
    std::optional<std::string> display_name;  ///< the sender's LokiProfile name, if sent
    /// The sender's profile picture (LokiProfile.profilePicture) and DataMessage.profileKey, when
    /// both were sent: Client::download_avatar fetches and decrypts it.
    std::optional<std::string> avatar_url;
    std::optional<Bytes> profile_key;
    proto::Content content;       ///< everything that was decoded, for fields not surfaced above

    // The conversation kinds as typed values (conversation.hpp); each is set only for its kind.
    std::optional<ReceiptInfo> receipt{};                   ///< kind receipt
    std::optional<TypingAction> typing{};                   ///< kind typing
    std::optional<QuoteInfo> quote{};                       ///< a text (or sync) that replies to a message
    std::optional<ReactionInfo> reaction{};                 ///< kind reaction
    /// kind unsend; only ever set when its author is the sender (otherwise the item is a
    /// SkippedItem, receive_unsend_not_author). The Client forgets nothing: deleting the unsent
    /// message from the caller's own records is the caller's job.
    std::optional<UnsendInfo> unsend{};
    std::optional<RequestResponseInfo> request_response{};  ///< kind message_request_response
    std::optional<DisappearingSetting> timer_update{};      ///< kind expiration_timer_update
    std::optional<DataExtractionInfo> data_extraction{};    ///< kind data_extraction
    /// From someone this Client never wrote to (nor accepted): a message request, as the official
    /// apps show it. Remembered in memory for the Client's life.
    bool message_request = false;
};

/// Client::mark_read: the read receipt sent, and the delete-after-read messages shortened.
struct MarkReadResult : SendResult {
    /// Hashes of the delete-after-read messages whose expiry in our swarm was shortened to now +
    /// their timer (session-desktop's `expire` with `shorten` when a message is read).
    std::vector<std::string> shortened{};
    std::optional<Error> expire_error{};  ///< why the shortening failed (the receipt was still sent)
};

/// Client::unsend: the UnsendRequest sent to the peer, and our own copies deleted.
struct UnsendResult : SendResult {
    /// Hashes deleted from our own swarm (the sync copy, or the message itself for Note to Self).
    std::vector<std::string> deleted{};
    std::optional<Error> delete_error{};  ///< why deleting our copies failed (the request was still sent)
};

/// An item the swarm holds for us that could not be turned into a ReceivedMessage. Never dropped
/// silently: it is reported here once, with the reason.
struct SkippedItem {
    std::string hash;
    std::int64_t stored_timestamp_ms;
    /// Why (Error::code; the message says more):
    ///   envelope_* (envelope::open): envelope_decrypt_failed (not for us, or corrupt),
    ///     envelope_bad_signature, envelope_timestamp_mismatch, envelope_bad_content, …;
    ///   retrieve_hash_mismatch: a member returned data that does not hash to the hash it claimed
    ///     (broken or forging). Not recorded as handed out, so the genuine item of that hash is
    ///     still delivered; reported again if another member serves the same forgery;
    ///   receive_no_signed_time: no Content.sigTimestamp nor legacy DataMessage.timestamp;
    ///   receive_too_old: signed more than kMaxSignedAge before our network time (an old message
    ///     replayed under a new hash);
    ///   receive_too_new: signed more than kMaxSignedAhead after it;
    ///   receive_replayed: the same sender and signed time as a message already handed out under
    ///     another hash (its envelope was re-wrapped: same content, new storage hash);
    ///   receive_malformed_kind: a conversation kind with a value outside the protocol (an unknown
    ///     enum value, a timestamp above 2^63-1, a reaction without an emoji). A kind missing a
    ///     required field does not decode at all: envelope_bad_content;
    ///   receive_unsend_not_author: an UnsendRequest naming an author other than its sender.
    Error reason;
};

struct ReceiveResult {
    /// New messages, oldest first in storage order (the order the swarm received them; one sender's
    /// messages keep their sending order).
    std::vector<ReceivedMessage> messages;
    /// Items that could not be opened, with reasons; skipped.size() is the skipped count.
    std::vector<SkippedItem> skipped;
    std::size_t skipped_count() const { return skipped.size(); }
    /// Pass this to the next receive() call: the hash of the newest item returned (message or
    /// skipped), or the last_hash you passed in if nothing new arrived.
    std::string last_hash;
    /// What each polled swarm member did (pages, messages, error) — for diagnostics.
    std::vector<retrieve::NodeOutcome> nodes;
    /// Not `none` when the call stopped at one of its limits (ClientOptions::receive_max_bytes,
    /// receive_max_items, receive_timeout) before every polled member was read to its end: more may
    /// be waiting; call receive(last_hash) again to continue.
    retrieve::Truncation truncated = retrieve::Truncation::none;
};

/// One page of Client::receive_pages: what one retrieve answer held that was new.
struct ReceivedPage {
    std::vector<ReceivedMessage> messages;
    std::vector<SkippedItem> skipped;
    /// The resume point covering this page and every page before it: pass it to a later receive()
    /// or receive_pages() to continue after this page (after a stop, a crash, or a handler error).
    std::string last_hash;
};

/// Called once per page with something new; return false to stop after this page.
using PageHandler = std::function<bool(ReceivedPage& page)>;

struct ReceiveSummary {
    std::size_t messages = 0;  ///< messages handed to the handler
    std::size_t skipped = 0;   ///< skipped items handed to the handler
    std::size_t pages = 0;     ///< handler calls
    bool stopped = false;      ///< the handler returned false
    /// The newest item handed out (the last page's last_hash), or the last_hash passed in.
    std::string last_hash;
    std::vector<retrieve::NodeOutcome> nodes;
    /// As ReceiveResult::truncated: call receive_pages(last_hash, …) again to continue.
    retrieve::Truncation truncated = retrieve::Truncation::none;
};

/// One message of Client::send_many.
struct OutgoingText {
    SessionId to;
    std::string text;
};

class Client {
public:
    /// On the Session mainnet (a Network built with network::Options{}), from a 13-word phrase
    /// (12 without the checksum word). Throws std::invalid_argument if the phrase is invalid (the
    /// message names the position, never a word) or the network cannot start. Prefer create() to
    /// get these as values. The phrase is not kept.
    explicit Client(std::string_view phrase, ClientOptions options = {});
    /// On the Session mainnet, from an identity (e.g. generated, or from a seed).
    explicit Client(Identity identity, ClientOptions options = {});
    /// On the Session mainnet. Errors: mnemonic_* (bad phrase), net_init (the network cannot
    /// start), invalid_argument (bad options), state-file errors (ClientOptions::state_path).
    [[nodiscard]] static Result<Client> create(std::string_view phrase, ClientOptions options = {});
    [[nodiscard]] static Result<Client> create(Identity identity, ClientOptions options = {});
    /// On `network`: a local network (network::NetworkConfig::from_file), other network settings,
    /// or one Network shared by several Clients (many bots in one process share its pool, paths
    /// and clock offset). Errors: as above; invalid_argument if `network` is null.
    [[nodiscard]] static Result<Client> create(std::string_view phrase, std::shared_ptr<network::Network> network,
                                               ClientOptions options = {});
    [[nodiscard]] static Result<Client> create(Identity identity, std::shared_ptr<network::Network> network,
                                               ClientOptions options = {});

    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client();

    /// Our Session ID ("05…").
    SessionId session_id() const;

    /// Seals `text` for `to` and stores it in `to`'s swarm (namespace 0). Sending to our own
    /// session_id() is Note to Self. Uses network time for the timestamp, strictly increasing per
    /// Client (the timestamp identifies the message in quotes, reactions, receipts and unsends). Retries other paths and
    /// swarm members; follows a moved swarm (421); resynchronises the clock on 406.
    /// Cost: warm (pool, path and recipient swarm cached) = 1 onion request.
    /// An empty text is sent (and received by this library), with a warning in the log: official
    /// apps do not display a message with neither body nor attachments.
    /// Errors: invalid_argument (text not UTF-8, bad options), envelope_too_large, net_* (see
    /// network::Network::store).
    [[nodiscard]] Result<SendResult> send(const SessionId& to, std::string_view text,
                                          const SendOptions& options = {});
    /// As above, with the recipient as "05…" hex. Errors additionally: session_id_invalid,
    /// session_id_wrong_prefix.
    [[nodiscard]] Result<SendResult> send(std::string_view to, std::string_view text,
                                          const SendOptions& options = {});

    // ---- the conversation (conversation.hpp): each call goes through the same pipeline as send()
    // (network time, strictly increasing timestamps, seal, store) and returns the stored hash and
    // timestamp. Errors: as send(). Visible kinds (reply, react, unreact, set_disappearing,
    // send_data_extraction) use the conversation's disappearing setting and, to someone who wrote
    // to us first and whom we never answered, first send accept_request() (as the official apps do
    // on the first reply).

    /// Read receipt for the messages `to` sent at `timestamps` (ReceiptMessage READ). For those of
    /// them this Client received as delete-after-read, also shortens their expiry in our swarm to
    /// now + their timer with a signed `expire` (found in memory, else by reading our swarm).
    /// Errors: invalid_argument (no timestamps, a negative one), as send().
    [[nodiscard]] Result<MarkReadResult> mark_read(const SessionId& to, const std::vector<std::int64_t>& timestamps);
    /// Typing indicator (TypingMessage), stored for 20 s (kTypingMessageTtl).
    [[nodiscard]] Result<SendResult> send_typing(const SessionId& to, TypingAction action);
    /// `text` quoting the message `quoted` (its timestamp and author; Quote.text when set).
    /// Errors: invalid_argument (text not UTF-8, empty author), as send().
    [[nodiscard]] Result<SendResult> reply(const SessionId& to, std::string_view text, const QuoteInfo& quoted,
                                           const SendOptions& options = {});
    /// Adds `emoji` to the message `target` (Reaction REACT), or removes it (unreact: REMOVE).
    /// Errors: invalid_argument (empty or non-UTF-8 emoji, empty author), as send().
    [[nodiscard]] Result<SendResult> react(const SessionId& to, const MessageRef& target, std::string_view emoji);
    [[nodiscard]] Result<SendResult> unreact(const SessionId& to, const MessageRef& target, std::string_view emoji);
    /// Unsends our message to `to` sent at `timestamp_ms`: an UnsendRequest to `to`, then a signed
    /// `delete` of our own copies from our swarm (the sync copy, or the message for Note to Self),
    /// found in memory, else by reading our swarm. Errors: as send() (the request); a failed
    /// delete is UnsendResult::delete_error.
    [[nodiscard]] Result<UnsendResult> unsend(const SessionId& to, std::int64_t timestamp_ms);
    /// Accepts `to`'s message request: MessageRequestResponse{isApproved, our profile}.
    [[nodiscard]] Result<SendResult> accept_request(const SessionId& to);
    /// Sets the conversation's disappearing setting and sends the timer update (DataMessage flags
    /// EXPIRATION_TIMER_UPDATE with the mode and timer), with a sync copy. Later messages to `to`
    /// whose SendOptions leave expiration_type none use it. Errors: invalid_argument (a timer of 0
    /// with a mode, or a timer with none), as send().
    [[nodiscard]] Result<SendResult> set_disappearing(const SessionId& to, DisappearingSetting setting);
    /// The conversation's disappearing setting (set_disappearing, or a timer update received).
    DisappearingSetting disappearing(const SessionId& peer) const;
    /// Data-extraction notice (screenshot / media saved) about the message sent at
    /// `referenced_timestamp_ms`.
    [[nodiscard]] Result<SendResult> send_data_extraction(const SessionId& to, DataExtractionType type,
                                                          std::int64_t referenced_timestamp_ms);
    /// Needs ClientOptions::store. Seals `text` for `to` (network time as known now; no network
    /// I/O) and writes it to the outbox, with its outgoing message in history, in one transaction.
    /// The message is sent by flush_outbox(). `quote` (optional): the message it replies to.
    /// Errors: invalid_argument (no store, text not UTF-8, bad options), envelope_too_large,
    /// store_* (nothing was queued).
    [[nodiscard]] Result<QueuedSend> queue(const SessionId& to, std::string_view text, const SendOptions& options = {},
                                           const std::optional<proto::Quote>& quote = std::nullopt);
    /// Needs ClientOptions::store. Expires outbox entries whose TTL passed, then stores up to `max`
    /// due entries in their recipients' swarms (one onion request each), reporting each status
    /// change. Network failures are not errors here (the entries wait for their next attempt).
    /// Errors: invalid_argument (no store), store_*.
    [[nodiscard]] Result<OutboxRun> flush_outbox(std::size_t max = 64);
    /// Many messages at once: each recipient is placed in its swarm (locally from the pool's swarm
    /// ids, no request when the pool is fresh), the messages are grouped by swarm and stored in
    /// `batch` requests of up to network::kMaxBatchStores (20) stores, the batches running at the
    /// same time on the network's executor (network::Options::executor sizes the threads). With
    /// options.sync_copy, the copies of the stored messages go to our own swarm in batches of 20.
    /// One result per message, in order, each its own: a bad text, a seal error, a 421 or an error
    /// in its sub-request fails (or moves and retries) only that message. Timestamps strictly
    /// increase per Client, as for send(), in the order of `messages`; batches run at once, so two
    /// messages to one recipient may be stored (and received) in either order: their sent
    /// timestamps keep the order given. Cost, warm, all swarms known: about
    /// (messages / 20 per swarm) onion requests, twice that with sync copies.
    /// Errors per message: as send(). Bad options: every message fails with invalid_argument.
    [[nodiscard]] std::vector<Result<SendResult>> send_many(std::span<const OutgoingText> messages,
                                                            const SendOptions& options = {});
    /// One text to many recipients (send_many with the same text for each).
    [[nodiscard]] std::vector<Result<SendResult>> broadcast(std::span<const SessionId> recipients, std::string_view text,
                                                            const SendOptions& options = {});
    /// send() and send_many() without a waiting thread: the caller keeps hundreds of sends in flight
    /// from one thread. Each message joins the Client's send queue: the messages queued until its
    /// next flush (a task on the network's executor) are placed in their swarms, stamped in the
    /// order they were queued (strictly increasing, as send()), grouped by swarm and stored in
    /// `batch` requests of up to network::kMaxBatchStores (20), whatever their options (each keeps
    /// its own TTL and disappearing setting); with options.sync_copy the copies of the stored ones
    /// go the same way to our own swarm (batched with other copies). At most 24 batches are in
    /// flight per Client; the rest wait without holding a thread (a request in flight is a
    /// transport event). Results, errors and sync_hash / sync_error as send()'s.
    ///
    /// `done` is called exactly once per call: for a bad text or bad options (invalid_argument) or
    /// a moved-from Client (client_closed) at once, on the calling thread, before send_async
    /// returns; otherwise on a thread of the network's executor. It must not block (it holds up
    /// that thread's other sends), must not throw and must not destroy this Client; it may send
    /// again. An empty `done` sends without reporting.
    /// Destroying the Client sends what is still queued and waits until every `done` has returned
    /// (moving the Client does not: its state stays in place).
    void send_async(SessionId to, std::string text, SendOptions options, std::function<void(Result<SendResult>)> done);
    /// The same, its result in a future (fulfilled where `done` would be called).
    [[nodiscard]] std::future<Result<SendResult>> send_async(SessionId to, std::string text, SendOptions options = {});
    /// Every message through the send queue as send_async (so they may share batches with other
    /// queued sends); one result per message, in order, as send_many()'s.
    [[nodiscard]] std::future<std::vector<Result<SendResult>>> send_many_async(std::vector<OutgoingText> messages,
                                                                               SendOptions options = {});

    /// Messages the swarm holds for us that were stored after `last_hash`.
    ///
    /// `last_hash` is the hash of the newest message the caller has already seen — pass the
    /// ReceiveResult::last_hash of the previous call. receive() returns only items stored after it;
    /// "" returns everything the swarm still holds (messages live up to 14 days).
    ///
    /// Each swarm member orders messages by its own arrival order, so a hash is only a resume point
    /// for a member that holds it. The Client therefore keeps, per last_hash it returned, where each
    /// polled member stopped, and which items it handed out up to that point: passing back a
    /// last_hash you got from this Client never yields an item twice, even when the two polled
    /// members disagree; and a member polled for the first time is asked for its whole history
    /// (as session-desktop asks a node it has no last hash for), already-returned items filtered
    /// out, so a message the earlier members missed, or that reached this member in another order
    /// (a swarm migration), is still delivered exactly once.
    /// A last_hash this Client did not return (e.g. saved before a restart) is sent to the members
    /// as is; a member that no longer holds that message (expired, or the account moved swarms)
    /// answers from its oldest one, so such a first call may repeat older items: set
    /// ClientOptions::state_path to keep the guarantee across restarts, or de-duplicate by `hash`.
    ///
    /// Asks ClientOptions::poll_nodes (2) random swarm members at the same time (a failed one is
    /// replaced by a spare), re-issuing while they say `more` with something new, and succeeds if
    /// at least one answered. Cost per call: one onion request per member per page; wall time: the
    /// slowest member's pages, not the sum.
    /// Hostile members: every item's hash is checked against its data, every answer's size and
    /// depth before it is parsed, every message's signed send time (too old, too far ahead, or a
    /// replay under a new hash); such items are SkippedItems with reasons (see SkippedItem). The
    /// call is bounded by ClientOptions::receive_max_bytes, receive_max_items and receive_timeout:
    /// reaching one returns what was gathered with ReceiveResult::truncated set; call again with
    /// its last_hash to continue.
    /// Errors: invalid_argument (last_hash is not empty and not a 43-character hash), net_* when no
    /// member answered (the last one's error; net_swarm_moved only if the swarm moved twice).
    [[nodiscard]] Result<ReceiveResult> receive(std::string_view last_hash = "");

    /// receive(), a page at a time: each retrieve answer's new items are opened and handed to
    /// `on_page` while the next pages are fetched, so memory stays at four pages at most
    /// (ClientOptions::retrieve_page_size items each; the server's byte budget when 0) however large
    /// the backlog, plus ~100 bytes per message hash for exactly-once delivery. Same last_hash
    /// semantics and guarantees as receive(). Order: each polled member's storage order; an item
    /// that only the second member holds comes after the first member's items (receive() slots
    /// it in beside its neighbours instead).
    /// The handler runs on the calling thread with no lock held (it may send or receive). If it
    /// throws, the exception propagates; resume from the last page's last_hash it completed.
    /// Errors: as receive(); invalid_argument for an empty handler.
    [[nodiscard]] Result<ReceiveSummary> receive_pages(std::string_view last_hash, const PageHandler& on_page);

    // ---- attachments ----------------------------------------------------------------------

    /// Encrypts and uploads one file to the network's file server over onion v4 and returns its
    /// AttachmentPointer (url, key, digest, size, content type, file name, width/height, flags),
    /// ready for SendOptions::attachments. The file is read in pieces into the encrypted blob (one
    /// copy of the file in memory, plus the request). Errors: attachment_too_large (over
    /// attachment::kMaxPlaintextBytes, before any upload), io_error (unreadable file),
    /// invalid_argument (no source or several, gcm scheme), attachment_unknown_server (the network
    /// has no file server), net_* (the upload failed), net_http_status (the server refused it).
    [[nodiscard]] Result<proto::AttachmentPointer> upload_attachment(const AttachmentSource& file,
                                                                     const AttachmentOptions& options = {});
    /// Uploads `files` (in parallel) and sends them in one message with `caption` as its body
    /// (desktop sends the caption as the DataMessage body). Every size is checked before any
    /// upload; nothing is sent unless every upload succeeded. Errors: as upload_attachment and send.
    [[nodiscard]] Result<SendResult> send_files(const SessionId& to, const std::vector<AttachmentSource>& files,
                                                std::string_view caption = {},
                                                const AttachmentOptions& attach_options = {},
                                                const SendOptions& options = {});

    /// Downloads a received attachment and returns its verified plaintext (nothing unless the MAC,
    /// the digest or the AEAD tags verified). The server is chosen from the URL: the network's file
    /// server (by scheme, host and port; a `#p=` key must then be one of its keys), or another
    /// host only when a `#p=` key names it (read as its X25519 key, as libsession does).
    /// Errors: attachment_bad_url, attachment_unknown_server (a host the network does not know and
    /// no `#p=`), attachment_not_found (404: expired or never uploaded), net_http_status (another
    /// status), net_* (the server is down or slow, the path failed), attachment_too_large (a blob
    /// over kMaxBlobBytes), attachment_* (wrong key, digest or MAC; truncated or garbage blob).
    [[nodiscard]] Result<Bytes> download_attachment(const proto::AttachmentPointer& pointer,
                                                    const ProgressFn& progress = {});
    /// As above, streamed to `path`: decrypted into a temporary file beside it, which becomes
    /// `path` only when everything verified (never a half-written or unverified file; an existing
    /// `path` is not overwritten: io_error). Errors: as above, io_error.
    [[nodiscard]] Result<DownloadResult> download_attachment_to(const proto::AttachmentPointer& pointer,
                                                                const std::string& path,
                                                                const ProgressFn& progress = {});
    /// Downloads and decrypts a profile picture (ReceivedMessage::avatar_url and profile_key):
    /// AES-256-GCM with the profile key, or the stream scheme for a `#d` URL.
    /// Errors: as download_attachment.
    [[nodiscard]] Result<Bytes> download_avatar(std::string_view url, ByteView profile_key);

    /// The last_hash the most recent receive() or receive_pages() page returned ("" before the
    /// first): where a single consumer resumes. Restored from ClientOptions::state_path, so a bot
    /// restarted with the same file continues with receive(resume_hash()).
    std::string resume_hash() const;

    /// Internal: the state the library's own conversation unit uses (defined in a private header).
    struct Parts;
    /// The display name sent with every message from now on (ClientOptions::display_name at first;
    /// "" = none). Thread-safe.
    void set_display_name(std::string name);
    std::string display_name() const;

    /// The network underneath (stats, pool, paths, clock offset).
    network::Network& network();
    const network::Network& network() const;

private:
    struct Impl;
    Parts parts();
    explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace session

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
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "session/envelope.hpp"
#include "session/error.hpp"
#include "session/keys.hpp"
#include "session/network.hpp"
#include "session/proto_wire.hpp"
#include "session/retrieve.hpp"
#include "session/rng.hpp"

namespace session {

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
    /// Keep receive()'s exactly-once bookkeeping in this file, so a restarted process that passes
    /// its saved last_hash never gets an item twice, even from a member that missed that message.
    /// Holds message hashes, swarm member keys and our Session ID, never content or keys; written
    /// atomically (mode 0600) after each receive() and each receive_pages() page that changed it.
    /// One Client at a time per file: it is locked (flock on FILE.lock) while the Client lives.
    /// Default: memory only (see receive() for what that means after a restart). Errors at
    /// create(): io_error, invalid_argument (corrupt, another account's file, or in use by another
    /// Client); a receive whose state cannot be written fails with io_error.
    std::string state_path{};
};

struct SendOptions {
    /// How long the swarm keeps the message, 10 s … 14 days. Default: 14 days, or the timer for
    /// delete_after_send (as session-desktop does, so the swarm drops it when it disappears).
    std::optional<std::chrono::milliseconds> ttl{};
    ExpirationType expiration_type = ExpirationType::none;
    /// The disappearing timer; must be > 0 exactly when expiration_type != none.
    std::chrono::seconds expiration_timer{0};
    /// Already-uploaded attachment pointers (file-server URL, key, digest, size…), sent as
    /// DataMessage.attachments. Uploading is not part of this library yet.
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
    std::vector<proto::AttachmentPointer> attachments;
    std::optional<std::string> display_name;  ///< the sender's LokiProfile name, if sent
    proto::Content content;       ///< everything that was decoded, for fields not surfaced above
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
    ///     another hash (its envelope was re-wrapped: same content, new storage hash).
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
    /// send() and send_many() on the network's executor: the caller keeps many sends in flight
    /// from one thread and collects the results later. Each one runs on an executor thread
    /// (blocking I/O: the executor's size bounds how many are in flight; batching makes each
    /// carry up to 20 messages). Destroying the Client waits for those still running (moving it
    /// does not: its state stays in place).
    [[nodiscard]] std::future<Result<SendResult>> send_async(SessionId to, std::string text, SendOptions options = {});
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
    /// `on_page` before the next page is asked for, so memory stays at one page
    /// (ClientOptions::retrieve_page_size items; the server's byte budget when 0) however large
    /// the backlog, plus ~100 bytes per message hash for exactly-once delivery. Same last_hash
    /// semantics and guarantees as receive(). Order: each polled member's storage order; an item
    /// that only the second member holds comes after the first member's items (receive() slots
    /// it in beside its neighbours instead).
    /// The handler runs on the calling thread with no lock held (it may send or receive). If it
    /// throws, the exception propagates; resume from the last page's last_hash it completed.
    /// Errors: as receive(); invalid_argument for an empty handler.
    [[nodiscard]] Result<ReceiveSummary> receive_pages(std::string_view last_hash, const PageHandler& on_page);

    /// The last_hash the most recent receive() or receive_pages() page returned ("" before the
    /// first): where a single consumer resumes. Restored from ClientOptions::state_path, so a bot
    /// restarted with the same file continues with receive(resume_hash()).
    std::string resume_hash() const;

    /// The network underneath (stats, pool, paths, clock offset).
    network::Network& network();
    const network::Network& network() const;

private:
    struct Impl;
    explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace session

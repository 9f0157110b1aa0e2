// client.cpp: the facade over keys, envelope, network and retrieve.
#include "session/client.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <thread>
#include <utility>

#include "detail/attachments_client.hpp"
#include "detail/client_parts.hpp"
#include "detail/client_store.hpp"
#include "detail/batch_sender.hpp"
#include "detail/delivery_ledger.hpp"
#include "detail/receive_state.hpp"
#include "detail/sender.hpp"
#include "detail/text.hpp"
#include "session/envelope.hpp"
#include "session/executor.hpp"

namespace session {

namespace {

}  // namespace

struct Client::Impl {
    Identity self;
    SessionId id;
    std::string display_name;  // guarded by profile_mu (set_display_name)
    mutable std::mutex profile_mu;
    std::size_t poll_nodes;
    std::int64_t page_size;
    network::LogFn log;
    std::shared_ptr<Rng> rng;
    std::shared_ptr<Clock> clock;  // local time, for receive_timeout
    std::size_t receive_max_bytes;
    std::size_t receive_max_items;
    std::chrono::milliseconds receive_timeout;
    std::shared_ptr<network::Network> net;
    // Receiving reaches the network through this (our swarm; one retrieve to one member).
    retrieve::NetworkReader reader;
    // Every send goes through this pipeline (detail/sender.hpp).
    detail::Sender sender;
    // Per-peer conversation memory (disappearing settings, requests, own copies): conversation.hpp.
    detail::ConversationBook book;
    // Uploads, downloads and the profile picture (detail/attachments_client.hpp).
    detail::Attachments attachments;
    // send_many / broadcast / the async sends (detail/batch_sender.hpp); declared after `sender`,
    // so it is destroyed (waiting for async sends) before the pipeline they use.
    detail::BatchSender batches;

    // Receive bookkeeping (the exactly-once ledger), guarded by mu (never held across network I/O).
    std::mutex mu;
    detail::DeliveryLedger ledger;
    // ClientOptions::state_path and its lock, held for the Client's life.
    std::string state_path;
    std::optional<detail::StateLock> state_lock;
    // ClientOptions::store: outbox, history and the ledger (detail/client_store.hpp); null = none.
    std::unique_ptr<detail::ClientStore> cstore;

    Impl(Identity identity, std::shared_ptr<network::Network> network, const ClientOptions& o)
            : self(std::move(identity)),
              id(self.session_id()),
              display_name(o.display_name),
              poll_nodes(std::max<std::size_t>(1, o.poll_nodes)),
              page_size(o.retrieve_page_size),
              log(o.log),
              rng(o.rng ? o.rng : system_rng()),
              clock(o.clock ? o.clock : system_clock()),
              receive_max_bytes(o.receive_max_bytes),
              receive_max_items(o.receive_max_items),
              receive_timeout(o.receive_timeout),
              net(std::move(network)),
              reader(*net),
              sender(self, net, log),
              attachments(self, net, rng, log),
              batches(sender, id, net, log, o.max_batches_in_flight) {
        attachments.set_avatar(o.avatar_path, o.avatar_bytes);
    }

    std::string profile_name() const {
        std::lock_guard lock(profile_mu);
        return display_name;
    }

    void say(network::LogLevel level, const std::string& line) const {
        if (log) log(level, line);
    }
    void note_truncation(std::string_view call, retrieve::Truncation why) const {
        if (why == retrieve::Truncation::none) return;
        say(network::LogLevel::info, "client: " + std::string(call) + ": stopped at the call's " +
                                         std::string(retrieve::to_string(why)) +
                                         "; more may be waiting after the returned last_hash");
    }

    // Writes the ledger to state_path if it changed. Called with mu held.
    Result<void> save_state() {
        if (state_path.empty() || !ledger.dirty()) return {};
        auto saved = detail::save_receive_state(state_path, ledger.to_state(id.hex()));
        if (saved) ledger.mark_saved();
        return saved;
    }

    // Writes what a receive handed out: with a store, `messages` and the ledger in one transaction;
    // otherwise the ledger to state_path. Called with mu held.
    Result<void> persist(std::span<const ReceivedMessage> messages) {
        if (!cstore) return save_state();
        if (messages.empty() && !ledger.dirty()) return {};
        auto saved = cstore->commit_page(messages, ledger.to_state(id.hex()), net->now_ms());
        if (saved) ledger.mark_saved();
        return saved;
    }

    // Reads state_path (if it exists) into the ledger. Called once, before any receive.
    Result<void> load_state() {
        auto loaded = detail::load_receive_state(state_path);
        if (!loaded) return unexpected(std::move(loaded).error());
        if (!*loaded) return {};
        const auto& st = **loaded;
        if (st.account != id.hex())
            return unexpected(Errc::invalid_argument, "client: state file " + state_path +
                                                          ": written for another account (" +
                                                          st.account.substr(0, 10) + "…), not " +
                                                          id.hex().substr(0, 10) + "…");
        ledger = detail::DeliveryLedger::from_state(st);
        return {};
    }

    // The steps receive() and receive_pages() share (defined with them below).
    // The poll of one call, with the call's budget starting now.
    retrieve::PollOptions poll_options() const {
        retrieve::PollOptions o;
        o.ns = retrieve::kDefaultNamespace;
        o.limits.max_count = page_size;
        o.want_answers = poll_nodes;
        o.rng = rng.get();  // random members (desktop samples 2), the rest spares
        o.budget.max_bytes = receive_max_bytes;
        o.budget.max_items = receive_max_items;
        o.budget.clock = clock.get();
        const std::int64_t now = clock->now_ms();
        const std::int64_t room = std::numeric_limits<std::int64_t>::max() - std::max<std::int64_t>(now, 0);
        o.budget.deadline_ms = now + std::min<std::int64_t>(receive_timeout.count(), room);  // saturating
        return o;
    }
    // Why an opened message is refused for its signed send time (nullopt: accepted). Called with mu
    // held, in delivery order.
    std::optional<Error> check_signed_time(const envelope::Message& m, const std::string& hash, std::int64_t now);
    using Start = detail::DeliveryLedger::Start;
    Result<Start> begin_receive(std::string_view last_hash);
    // Filters out what the caller already has, opens the rest (in parallel), records them as
    // delivered and remembers `cursor` as the resume point of the newest one (`newest`). Forged
    // items (`rejected`) are reported as skipped unless the caller has the hash they claim; they
    // are not recorded (a forger must not be able to mark a genuine hash as handed out).
    ReceivedPage deliver(std::vector<retrieve::StoredMessage>& items, std::vector<retrieve::RejectedItem>& rejected,
                         const Start& st,
                         const retrieve::NodeCursor& cursor, std::string& newest);
};

// ---- construction ----------------------------------------------------------------------------

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<Client> Client::create(Identity identity, std::shared_ptr<network::Network> net, ClientOptions options) {
    if (!net) return unexpected(Errc::invalid_argument, "client: network: expected a Network, got none");
    if (options.receive_max_bytes == 0 || options.receive_max_items == 0 || options.receive_timeout.count() <= 0)
        return unexpected(Errc::invalid_argument,
                          "client: receive_max_bytes, receive_max_items, receive_timeout: expected each > 0, got " +
                              std::to_string(options.receive_max_bytes) + ", " +
                              std::to_string(options.receive_max_items) + ", " +
                              std::to_string(options.receive_timeout.count()) + " ms");
    if (options.max_batches_in_flight == 0)
        return unexpected(Errc::invalid_argument, "client: max_batches_in_flight: expected > 0, got 0");
    auto impl = std::make_unique<Impl>(std::move(identity), std::move(net), options);
    if (options.store) {
        if (!(options.store->account() == impl->id))
            return unexpected(Errc::invalid_argument, "client: store " + options.store->path() +
                                                          ": expected a store of " + impl->id.hex().substr(0, 10) +
                                                          "…, got one of " + options.store->account().hex().substr(0, 10) + "…");
        impl->cstore = std::make_unique<detail::ClientStore>(options.store, impl->net, impl->id, options);
        auto ledger = impl->cstore->open_ledger(options.state_path);
        if (!ledger) return unexpected(std::move(ledger).error());
        if (*ledger) impl->ledger = detail::DeliveryLedger::from_state(**ledger);
    } else if (!options.state_path.empty()) {
        auto lock = detail::StateLock::acquire(options.state_path);
        if (!lock) return unexpected(lock.error());
        impl->state_lock.emplace(std::move(*lock));
        impl->state_path = options.state_path;
        if (auto loaded = impl->load_state(); !loaded) return unexpected(loaded.error());
    }
    return Client(std::move(impl));
}

Result<Client> Client::create(Identity identity, ClientOptions options) {
    std::shared_ptr<network::Network> net;
    try {
        net = std::make_shared<network::Network>(network::Options{});
    } catch (const std::exception& e) {
        return unexpected(Errc::net_init, std::string("client: cannot start the network: ") + e.what());
    }
    return create(std::move(identity), std::move(net), std::move(options));
}

Result<Client> Client::create(std::string_view phrase, std::shared_ptr<network::Network> network, ClientOptions options) {
    auto identity = Identity::from_phrase(phrase);
    if (!identity) return unexpected(std::move(identity).error());
    return create(std::move(*identity), std::move(network), std::move(options));
}

Result<Client> Client::create(std::string_view phrase, ClientOptions options) {
    auto identity = Identity::from_phrase(phrase);
    if (!identity) return unexpected(std::move(identity).error());
    return create(std::move(*identity), std::move(options));
}

namespace {
template <class T>
T value_or_throw(Result<T>&& r) {
    if (!r) throw std::invalid_argument(r.error().message);
    return std::move(*r);
}
}  // namespace

Client::Client(std::string_view phrase, ClientOptions options)
        : Client(value_or_throw(create(phrase, std::move(options)))) {}

Client::Client(Identity identity, ClientOptions options)
        : Client(value_or_throw(create(std::move(identity), std::move(options)))) {}

Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

Client::Parts Client::parts() {
    if (!impl_) throw std::logic_error("client: used after move");
    auto& im = *impl_;
    return Parts{im.self, im.id, im.profile_name(), *im.net, im.reader, im.sender, im.book, im.log};
}

SessionId Client::session_id() const {
    if (!impl_) throw std::logic_error("client: used after move");
    return impl_->id;
}

void Client::set_display_name(std::string name) {
    if (!impl_) throw std::logic_error("client: used after move");
    std::lock_guard lock(impl_->profile_mu);
    impl_->display_name = std::move(name);
}

std::string Client::display_name() const {
    if (!impl_) throw std::logic_error("client: used after move");
    return impl_->profile_name();
}

std::string Client::resume_hash() const {
    if (!impl_) throw std::logic_error("client: used after move");
    std::lock_guard lock(impl_->mu);
    return impl_->ledger.latest();
}

network::Network& Client::network() {
    if (!impl_) throw std::logic_error("client: used after move");
    return *impl_->net;
}
const network::Network& Client::network() const {
    if (!impl_) throw std::logic_error("client: used after move");
    return *impl_->net;
}

// ---- send ------------------------------------------------------------------------------------

Result<SendResult> Client::send(std::string_view to, std::string_view text, const SendOptions& options) {
    auto id = SessionId::parse(to);
    if (!id) return unexpected(std::move(id).error());
    return send(*id, text, options);
}

Result<SendResult> Client::send(const SessionId& to, std::string_view text, const SendOptions& options) {
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");
    auto& im = *impl_;

    if (auto bad = detail::invalid_utf8_at(text))
        return unexpected(Errc::invalid_argument,
                          "client: text: expected UTF-8, got an invalid sequence at byte " + std::to_string(*bad));
    auto spec = detail::spec_for(options);
    if (!spec) return unexpected(std::move(spec).error());
    // An empty text is sent as asked (this library and session-cli show it); official apps hide a
    // DataMessage with neither body nor attachments, so the caller is told through the log.
    if (text.empty() && options.attachments.empty())
        im.say(network::LogLevel::warning,
               "client: sending an empty message: official Session apps do not display it");

    // The profile picture, uploaded first (and again before it expires); a failure costs the
    // picture, not the message.
    std::optional<detail::Attachments::AvatarRef> avatar;
    if (im.attachments.has_avatar()) {
        if (auto a = im.attachments.avatar()) avatar = std::move(*a);
        else im.say(network::LogLevel::warning, "client: sending without the profile picture: " + a.error().message);
    }
    const auto build = [&](std::int64_t timestamp_ms) {
        envelope::OutgoingMessage m;
        m.body = std::string(text);
        m.timestamp_ms = timestamp_ms;
        if (auto name = im.profile_name(); !name.empty()) m.display_name = std::move(name);
        if (avatar) {
            m.profile_picture_url = avatar->url;
            m.profile_key = avatar->profile_key;
        }
        m.attachments = options.attachments;
        return envelope::build_content(m);
    };
    if (!im.cstore) return detail::send_visible(parts(), to, build, options);

    // With a store: through the outbox, so a send cut short by a crash or the network is retried;
    // prepared as every visible message is.
    auto p = parts();
    spec = detail::prepare_visible(p, to, options);
    if (!spec) return unexpected(std::move(spec).error());
    if (auto swarm = im.net->get_swarm(to); !swarm)
        im.say(network::LogLevel::info, "client: recipient's swarm unknown for now (" + swarm.error().message +
                                            "); the message is queued and sent later");
    auto sealed = im.sender.seal(to, build, *spec, im.sender.next_timestamp());
    if (!sealed) return unexpected(std::move(sealed).error());
    auto queued = im.cstore->enqueue(*sealed, *spec, text, options.attachments, std::nullopt, im.net->now_ms());
    if (!queued) return unexpected(std::move(queued).error());
    auto entry = im.cstore->db().outbox_entry(queued->hash);
    if (!entry) return unexpected(std::move(entry).error());
    if (!*entry) return unexpected(Errc::io_error, "client: outbox: entry " + queued->hash + " vanished");
    auto stored = im.cstore->attempt(**entry);
    if (!stored) return unexpected(std::move(stored).error());
    p.book.note_outgoing(to);
    SendResult out;
    out.hash = stored->hash;
    out.timestamp_ms = sealed->timestamp_ms;
    out.expiry_ms = stored->expiry_ms;
    out.nodes = std::move(stored->nodes);
    return out;
}

Result<QueuedSend> Client::queue(const SessionId& to, std::string_view text, const SendOptions& options,
                                 const std::optional<proto::Quote>& quote) {
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");
    auto& im = *impl_;
    if (!im.cstore) return unexpected(Errc::invalid_argument, "client: queue: expected ClientOptions::store, got none");
    if (auto bad = detail::invalid_utf8_at(text))
        return unexpected(Errc::invalid_argument,
                          "client: text: expected UTF-8, got an invalid sequence at byte " + std::to_string(*bad));
    auto spec = detail::spec_for(options);
    if (!spec) return unexpected(std::move(spec).error());
    spec->sync_copy = false;  // the outbox stores one message per entry
    const auto build = [&](std::int64_t timestamp_ms) {
        envelope::OutgoingMessage m;
        m.body = std::string(text);
        m.timestamp_ms = timestamp_ms;
        if (auto name = im.profile_name(); !name.empty()) m.display_name = std::move(name);
        m.attachments = options.attachments;
        m.quote = quote;
        return envelope::build_content(m);
    };
    auto sealed = im.sender.seal(to, build, *spec, im.sender.next_timestamp());
    if (!sealed) return unexpected(std::move(sealed).error());
    return im.cstore->enqueue(*sealed, *spec, text, options.attachments, quote, im.net->now_ms());
}

Result<OutboxRun> Client::flush_outbox(std::size_t max) {
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");
    if (!impl_->cstore)
        return unexpected(Errc::invalid_argument, "client: flush_outbox: expected ClientOptions::store, got none");
    return impl_->cstore->flush(max);
}

namespace {
// The Content of a text message (as send() builds it); `text` and `name` are copied in.
detail::ContentBuilder text_content(std::string text, std::string name,
                                    std::vector<proto::AttachmentPointer> attachments) {
    return [text = std::move(text), name = std::move(name), attachments = std::move(attachments)](std::int64_t ts) {
        envelope::OutgoingMessage m;
        m.body = text;
        m.timestamp_ms = ts;
        if (!name.empty()) m.display_name = name;
        m.attachments = attachments;
        return envelope::build_content(m);
    };
}

// send_many's work, on any thread (Im is Client::Impl; the async form runs it on the executor).
template <class Im>
std::vector<Result<SendResult>> send_many_with(Im& im, std::span<const OutgoingText> messages, const SendOptions& options) {
    std::vector<Result<SendResult>> out;
    auto spec = detail::spec_for(options);
    if (!spec) {
        out.assign(messages.size(), unexpected(spec.error()));
        return out;
    }
    // Bad texts fail alone; the others go out together.
    std::vector<std::optional<Error>> bad(messages.size());
    std::vector<detail::Outgoing> go;
    bool empty_text = false;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        if (auto at = detail::invalid_utf8_at(messages[i].text)) {
            bad[i] = Error{Errc::invalid_argument, "client: text: expected UTF-8, got an invalid sequence at byte " +
                                                       std::to_string(*at)};
            continue;
        }
        empty_text |= messages[i].text.empty() && options.attachments.empty();
        go.push_back(detail::Outgoing{messages[i].to, text_content(messages[i].text, im.profile_name(), options.attachments)});
    }
    if (empty_text)
        im.say(network::LogLevel::warning, "client: sending an empty message: official Session apps do not display it");
    auto sent = im.batches.send(go, *spec);
    out.reserve(messages.size());
    for (std::size_t i = 0, k = 0; i < messages.size(); ++i) {
        if (bad[i]) out.push_back(unexpected(std::move(*bad[i])));
        else out.push_back(std::move(sent[k++]));
    }
    return out;
}
}  // namespace

std::vector<Result<SendResult>> Client::send_many(std::span<const OutgoingText> messages, const SendOptions& options) {
    if (!impl_)
        return std::vector<Result<SendResult>>(messages.size(), unexpected(Errc::client_closed, "client: used after move"));
    return send_many_with(*impl_, messages, options);
}

std::vector<Result<SendResult>> Client::broadcast(std::span<const SessionId> recipients, std::string_view text,
                                                  const SendOptions& options) {
    std::vector<OutgoingText> messages;
    messages.reserve(recipients.size());
    for (const auto& to : recipients) messages.push_back(OutgoingText{to, std::string(text)});
    return send_many(messages, options);
}

void Client::send_async(SessionId to, std::string text, SendOptions options,
                        std::function<void(Result<SendResult>)> done) {
    const auto fail = [&](Error e) {
        if (done) done(unexpected(std::move(e)));
    };
    if (!impl_) return fail(Error{Errc::client_closed, "client: used after move"});
    auto* im = impl_.get();
    if (auto bad = detail::invalid_utf8_at(text))
        return fail(Error{Errc::invalid_argument,
                          "client: text: expected UTF-8, got an invalid sequence at byte " + std::to_string(*bad)});
    auto spec = detail::spec_for(options);
    if (!spec) return fail(std::move(spec).error());
    if (text.empty() && options.attachments.empty())
        im->say(network::LogLevel::warning, "client: sending an empty message: official Session apps do not display it");
    auto build = text_content(std::move(text), im->profile_name(), std::move(options.attachments));
    // The BatchSender's destructor waits until `done` has returned, before the Client's state goes.
    im->batches.enqueue(detail::Outgoing{std::move(to), std::move(build)}, std::move(*spec), std::move(done));
}

std::future<Result<SendResult>> Client::send_async(SessionId to, std::string text, SendOptions options) {
    auto promise = std::make_shared<std::promise<Result<SendResult>>>();
    auto future = promise->get_future();
    send_async(std::move(to), std::move(text), std::move(options),
               [promise](Result<SendResult> r) { promise->set_value(std::move(r)); });
    return future;
}

std::future<std::vector<Result<SendResult>>> Client::send_many_async(std::vector<OutgoingText> messages,
                                                                     SendOptions options) {
    using Results = std::vector<Result<SendResult>>;
    // The results, filled by each message's callback; the last one fulfils the promise.
    struct Gather {
        std::mutex m;
        std::vector<std::optional<Result<SendResult>>> out;
        std::size_t left = 0;
        std::promise<Results> promise;
        void put(std::size_t i, Result<SendResult> r) {
            {
                std::lock_guard lock(m);
                out[i] = std::move(r);
                if (--left != 0) return;
            }
            Results all;
            all.reserve(out.size());
            for (auto& o : out) all.push_back(std::move(*o));
            promise.set_value(std::move(all));
        }
    };
    auto g = std::make_shared<Gather>();
    auto future = g->promise.get_future();
    const std::size_t n = messages.size();
    if (!impl_ || n == 0) {
        g->promise.set_value(Results(n, unexpected(Errc::client_closed, "client: used after move")));
        return future;
    }
    auto* im = impl_.get();
    auto spec = detail::spec_for(options);
    if (!spec) {
        g->promise.set_value(Results(n, unexpected(spec.error())));
        return future;
    }
    g->out.resize(n);
    g->left = n;
    // As send_many: a bad text fails alone; the others go out together (through the send queue).
    const std::string name = im->profile_name();
    bool empty_text = false;
    for (const auto& m : messages) empty_text |= m.text.empty() && options.attachments.empty();
    if (empty_text)
        im->say(network::LogLevel::warning, "client: sending an empty message: official Session apps do not display it");
    for (std::size_t i = 0; i < n; ++i) {
        if (auto at = detail::invalid_utf8_at(messages[i].text)) {
            g->put(i, unexpected(Errc::invalid_argument, "client: text: expected UTF-8, got an invalid sequence at byte " +
                                                             std::to_string(*at)));
            continue;
        }
        im->batches.enqueue(detail::Outgoing{std::move(messages[i].to),
                                             text_content(std::move(messages[i].text), name, options.attachments)},
                            *spec, [g, i](Result<SendResult> r) { g->put(i, std::move(r)); });
    }
    return future;
}

// ---- receive ---------------------------------------------------------------------------------

namespace {

static_assert(detail::kReplayWindowMs >= kMaxSignedAge.count(),
              "the ledger must keep (sender, signed time) pairs as long as such messages are accepted");

// The send time the sender signed: Content.sigTimestamp (open() checked it equals the envelope's),
// else the legacy DataMessage.timestamp, which sits in the same signed Content (pysession-client
// sends only that one). nullopt when neither is there (or above 2^63-1): the unsigned
// Envelope.timestamp is never used alone, since anyone relaying the message can change it.
std::optional<std::int64_t> signed_time(const envelope::Message& m) {
    std::optional<std::uint64_t> t;
    if (m.content.sig_timestamp && *m.content.sig_timestamp != 0) t = m.content.sig_timestamp;
    else if (m.content.data_message && m.content.data_message->timestamp && *m.content.data_message->timestamp != 0)
        t = m.content.data_message->timestamp;
    if (!t || *t > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(*t);
}

std::string days(std::chrono::milliseconds d) { return std::to_string(d.count() / (24 * 60 * 60 * 1000)); }

// now ± d without overflow, whatever the clock says (d >= 0).
std::int64_t plus_sat(std::int64_t now, std::int64_t d) {
    return now > std::numeric_limits<std::int64_t>::max() - d ? std::numeric_limits<std::int64_t>::max() : now + d;
}
std::int64_t minus_sat(std::int64_t now, std::int64_t d) {
    return now < std::numeric_limits<std::int64_t>::min() + d ? std::numeric_limits<std::int64_t>::min() : now - d;
}

/// The sender's profile picture URL and profile key, when both were sent.
std::pair<std::optional<std::string>, std::optional<Bytes>> avatar_of(const proto::Content& c) {
    const auto* dm = c.data_message ? &*c.data_message : nullptr;
    if (!dm || !dm->profile || !dm->profile->profile_picture || dm->profile->profile_picture->empty() ||
        !dm->profile_key || dm->profile_key->empty())
        return {};
    return {dm->profile->profile_picture, dm->profile_key};
}

struct Opened {
    retrieve::StoredMessage* stored;
    Result<envelope::Message> msg;
};

// Opens every item, in input order. Opening is pure CPU (sealed box, Ed25519 verify, key
// conversion), so a large page is spread over the executor in chunks of kItemsPerTask, at most one
// task per core; a small one stays on the caller's thread, where handing work over would cost more
// than it saves.
std::vector<Opened> open_all(const Identity& self, const std::vector<retrieve::StoredMessage*>& items,
                             Executor& executor) {
    constexpr std::size_t kItemsPerTask = 32;
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t tasks = (items.size() + kItemsPerTask - 1) / kItemsPerTask;
    std::vector<std::optional<Result<envelope::Message>>> slots(items.size());
    auto work = [&](std::size_t task) {
        const std::size_t end = std::min(items.size(), (task + 1) * kItemsPerTask);
        for (std::size_t i = task * kItemsPerTask; i < end; ++i) slots[i].emplace(envelope::open(self, items[i]->data));
    };
    if (tasks <= 1 || cores == 1) {
        for (std::size_t t = 0; t < tasks; ++t) work(t);
    } else {
        parallel_for(executor, tasks, work, cores);
    }
    std::vector<Opened> out;
    out.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) out.push_back(Opened{items[i], std::move(*slots[i])});
    return out;
}

}  // namespace

Result<Client::Impl::Start> Client::Impl::begin_receive(std::string_view last_hash) {
    if (!last_hash.empty() && !retrieve::is_message_hash(last_hash))
        return unexpected(Errc::invalid_argument, "client: last_hash: expected empty or 43 base64 characters, got " +
                                                      std::to_string(last_hash.size()) + " characters");
    std::lock_guard lock(mu);
    return ledger.start(last_hash);
}

std::optional<Error> Client::Impl::check_signed_time(const envelope::Message& m, const std::string& hash,
                                                     std::int64_t now) {
    const auto sent = signed_time(m);
    if (!sent)
        return Error{Errc::receive_no_signed_time,
                     "client: receive: no signed send time (neither Content.sigTimestamp nor the legacy "
                     "DataMessage.timestamp): its time and uniqueness cannot be checked"};
    if (*sent < minus_sat(now, kMaxSignedAge.count()))
        return Error{Errc::receive_too_old, "client: receive: signed at " + std::to_string(*sent) + ", more than " +
                                                days(kMaxSignedAge) + " days before network time " +
                                                std::to_string(now) +
                                                ": older than any message the swarm still holds (a replay)"};
    if (*sent > plus_sat(now, kMaxSignedAhead.count()))
        return Error{Errc::receive_too_new, "client: receive: signed at " + std::to_string(*sent) + ", more than " +
                                                days(kMaxSignedAhead) + " days after network time " +
                                                std::to_string(now)};
    if (ledger.is_replay(m.sender, *sent, hash))
        return Error{Errc::receive_replayed, "client: receive: " + m.sender.hex().substr(0, 10) + "… signed at " +
                                                 std::to_string(*sent) +
                                                 " was already received under another hash (a replay)"};
    return std::nullopt;
}

ReceivedPage Client::Impl::deliver(std::vector<retrieve::StoredMessage>& items,
                                   std::vector<retrieve::RejectedItem>& rejected, const Start& st,
                                   const retrieve::NodeCursor& cursor, std::string& newest) {
    // Open outside the lock (pure crypto, in parallel), then number and record under it.
    std::vector<retrieve::StoredMessage*> fresh;
    {
        std::lock_guard lock(mu);
        // What the caller already has is not even opened.
        for (auto& s : items)
            if (ledger.is_new(st, s.hash)) fresh.push_back(&s);
    }
    std::vector<Opened> opened = open_all(self, fresh, net->executor());

    ReceivedPage page;
    const std::int64_t now = net->now_ms();
    std::lock_guard lock(mu);
    for (auto& o : opened) {
        auto& s = *o.stored;
        ledger.record(s.hash, s.expiry_ms, now);
        newest = s.hash;
        if (o.msg) {
            // The signed send time: checked, and with the sender it names the message once.
            if (auto refused = check_signed_time(*o.msg, s.hash, now)) o.msg = unexpected(std::move(*refused));
        }
        if (!o.msg) {
            say(network::LogLevel::warning, "client: receive: skipped " + s.hash + ": " + o.msg.error().message);
            page.skipped.push_back(SkippedItem{s.hash, s.timestamp_ms, o.msg.error()});
            continue;
        }
        auto& m = *o.msg;
        const std::int64_t sent = *signed_time(m);
        ReceivedMessage received{
            .sender = m.sender,
            .kind = m.kind,
            .body = std::move(m.body),
            .hash = s.hash,
            .sent_timestamp_ms = sent,
            .stored_timestamp_ms = s.timestamp_ms,
            .expiry_ms = s.expiry_ms,
            .expiration_type = m.expiration_type,
            .expiration_timer = m.expiration_timer,
            .attachments = std::move(m.attachments),
            .display_name = std::move(m.display_name),
            .avatar_url = avatar_of(m.content).first,
            .profile_key = avatar_of(m.content).second,
            .content = std::move(m.content),
        };
        // The conversation kinds' typed fields (client_conversation.cpp); a malformed one is skipped.
        if (auto refused = detail::annotate(book, id, received)) {
            say(network::LogLevel::warning, "client: receive: skipped " + s.hash + ": " + refused->message);
            page.skipped.push_back(SkippedItem{s.hash, s.timestamp_ms, std::move(*refused)});
            continue;
        }
        ledger.record_signed(m.sender, sent, s.hash);
        page.messages.push_back(std::move(received));
    }
    for (auto& r : rejected) {
        if (!ledger.is_new(st, r.hash)) continue;  // the caller has the genuine item of that hash
        say(network::LogLevel::warning, "client: receive: skipped " + r.hash + ": " + r.reason.message);
        page.skipped.push_back(SkippedItem{std::move(r.hash), r.timestamp_ms, std::move(r.reason)});
    }
    if (!newest.empty()) ledger.remember(newest, st, cursor);
    page.last_hash = newest;
    return page;
}

Result<ReceiveResult> Client::receive(std::string_view last_hash) {
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");
    auto& im = *impl_;
    auto st = im.begin_receive(last_hash);
    if (!st) return unexpected(std::move(st).error());

    auto popts = im.poll_options();
    popts.executor = &im.net->executor();  // both members in one round trip; the merge is the same

    ReceiveResult result;
    retrieve::NodeCursor cursor = st->cursor;
    auto polled = retrieve::poll(im.self, im.reader, cursor, st->fallback, popts);
    if (!polled) return unexpected(std::move(polled).error());
    result.nodes = std::move(polled->nodes);
    result.truncated = polled->truncated;
    im.note_truncation("receive", result.truncated);

    std::string newest = st->since;
    auto page = im.deliver(polled->messages, polled->rejected, *st, cursor, newest);
    result.messages = std::move(page.messages);
    result.skipped = std::move(page.skipped);
    result.last_hash = newest;
    std::lock_guard lock(im.mu);
    im.ledger.set_latest(newest);
    im.ledger.prune(im.net->now_ms());
    // Not written: the items stay recorded in memory with numbers after the caller's last_hash, so
    // passing that last_hash again hands them out again. Nothing is lost.
    if (auto saved = im.persist(result.messages); !saved) return unexpected(saved.error());
    return result;
}

Result<ReceiveSummary> Client::receive_pages(std::string_view last_hash, const PageHandler& on_page) {
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");
    if (!on_page) return unexpected(Errc::invalid_argument, "client: receive_pages: expected a page handler, got none");
    auto& im = *impl_;
    auto st = im.begin_receive(last_hash);
    if (!st) return unexpected(std::move(st).error());

    auto popts = im.poll_options();
    popts.executor = &im.net->executor();  // each next page asked for while this one is handled

    ReceiveSummary summary;
    std::optional<Error> save_error;
    std::string newest = st->since;
    retrieve::NodeCursor cursor = st->cursor;
    const retrieve::PageSink sink = [&](const Ed25519PublicKey&, retrieve::FreshPage& fresh,
                                        const retrieve::NodeCursor& now) {
        auto page = im.deliver(fresh.messages, fresh.rejected, *st, now, newest);
        fresh = {};
        if (page.messages.empty() && page.skipped.empty()) return true;
        {
            // Written before the handler sees the page; if it cannot be, the page is not handed
            // out (it comes again after the previous page's last_hash).
            std::lock_guard lock(im.mu);
            im.ledger.set_latest(page.last_hash);
            if (auto saved = im.persist(page.messages); !saved) {
                save_error = saved.error();
                return false;
            }
        }
        summary.messages += page.messages.size();
        summary.skipped += page.skipped.size();
        ++summary.pages;
        return on_page(page);  // no lock held: the handler may send, or receive with another Client
    };
    auto polled = retrieve::poll_pages(im.self, im.reader, cursor, st->fallback, sink, popts);
    if (!polled) return unexpected(std::move(polled).error());
    summary.nodes = std::move(polled->nodes);
    summary.truncated = polled->truncated;
    im.note_truncation("receive_pages", summary.truncated);
    summary.stopped = polled->stopped;
    summary.last_hash = newest;
    std::lock_guard lock(im.mu);
    if (save_error) return unexpected(std::move(*save_error));
    // Where every member stopped, for the next call (pages with nothing new moved cursors too).
    if (!newest.empty() && !summary.stopped) im.ledger.remember(newest, *st, cursor);
    im.ledger.prune(im.net->now_ms());
    if (auto saved = im.persist({}); !saved) return unexpected(saved.error());
    return summary;
}

// ---- attachments (detail/attachments_client.cpp) ----------------------------------------------

Result<proto::AttachmentPointer> Client::upload_attachment(const AttachmentSource& file, const AttachmentOptions& options) {
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");
    return impl_->attachments.upload(file, options);
}

Result<SendResult> Client::send_files(const SessionId& to, const std::vector<AttachmentSource>& files,
                                      std::string_view caption, const AttachmentOptions& attach_options,
                                      const SendOptions& options) {
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");
    if (auto bad = detail::invalid_utf8_at(caption))
        return unexpected(Errc::invalid_argument,
                          "client: caption: expected UTF-8, got an invalid sequence at byte " + std::to_string(*bad));
    if (auto spec = detail::spec_for(options); !spec) return unexpected(std::move(spec).error());
    auto pointers = impl_->attachments.upload_all(files, attach_options, impl_->net->executor());
    if (!pointers) return unexpected(std::move(pointers).error());
    SendOptions with = options;
    with.attachments.insert(with.attachments.end(), pointers->begin(), pointers->end());
    return send(to, caption, with);
}

Result<Bytes> Client::download_attachment(const proto::AttachmentPointer& pointer, const ProgressFn& progress) {
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");
    return impl_->attachments.download(pointer, progress);
}

Result<DownloadResult> Client::download_attachment_to(const proto::AttachmentPointer& pointer, const std::string& path,
                                                      const ProgressFn& progress) {
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");
    return impl_->attachments.download_to(pointer, path, progress);
}

Result<Bytes> Client::download_avatar(std::string_view url, ByteView profile_key) {
    if (!impl_) return unexpected(Errc::client_closed, "client: used after move");
    return impl_->attachments.download_avatar(url, profile_key);
}

}  // namespace session

// retrieve.cpp: signed retrieve requests, bounds-checked answers, polling the swarm.
#include "session/retrieve.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <list>
#include <unordered_map>
#include <unordered_set>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <utility>

#include "detail/json_limited.hpp"
#include "session/swarm.hpp"

namespace session::retrieve {

namespace {

using nlohmann::json;

Unexpected<Error> bad(std::string what) {
    return unexpected(Errc::retrieve_bad_response, "retrieve: " + std::move(what));
}

bool is_b64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}


std::string type_name(const json& j) { return j.type_name(); }

// A non-negative JSON integer (the server's timestamps are ms since the epoch).
Result<std::int64_t> non_negative(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end()) return bad(where + "." + key + ": missing");
    if (it->is_number_unsigned()) {
        auto v = it->get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(INT64_MAX))
            return bad(where + "." + key + ": value out of range");
        return static_cast<std::int64_t>(v);
    }
    if (it->is_number_integer()) {
        auto v = it->get<std::int64_t>();
        if (v < 0) return bad(where + "." + key + ": expected a non-negative integer, got " + std::to_string(v));
        return v;
    }
    return bad(where + "." + key + ": expected an integer, got " + type_name(*it));
}

}  // namespace

std::string_view to_string(Truncation t) noexcept {
    switch (t) {
        case Truncation::none: return "none";
        case Truncation::byte_budget: return "byte_budget";
        case Truncation::item_budget: return "item_budget";
        case Truncation::deadline: return "deadline";
    }
    return "unknown";
}

bool is_message_hash(std::string_view h) {
    return h.size() == kHashLength && std::all_of(h.begin(), h.end(), is_b64_char);
}

std::string signature_message(std::int16_t ns, std::int64_t timestamp_ms) {
    // storage-server.md §4.5: the namespace is left out entirely for namespace 0.
    std::string m = "retrieve";
    if (ns != 0) m += std::to_string(ns);
    m += std::to_string(timestamp_ms);
    return m;
}

std::string Request::params_json() const {
    json p = {{"pubkey", pubkey},         {"pubkey_ed25519", pubkey_ed25519}, {"namespace", ns},
              {"timestamp", timestamp_ms}, {"signature", signature}};
    if (!last_hash.empty()) p["last_hash"] = last_hash;
    if (max_count != 0) p["max_count"] = max_count;
    if (max_size != 0) p["max_size"] = max_size;
    return p.dump();
}

std::string Request::body_json() const {
    return R"({"method":"retrieve","params":)" + params_json() + "}";
}

Result<Request> sign_request(const Identity& self, std::int16_t ns, std::int64_t timestamp_ms,
                             std::string_view last_hash, PageLimits limits) {
    if (!last_hash.empty() && !is_message_hash(last_hash))
        return unexpected(Errc::invalid_argument, "retrieve: last_hash: expected empty or 43 base64 characters, got " +
                                                      std::to_string(last_hash.size()) + " characters");
    if (timestamp_ms < 0)
        return unexpected(Errc::invalid_argument, "retrieve: timestamp: expected non-negative milliseconds");
    Request r;
    r.pubkey = self.session_id().hex();
    r.pubkey_ed25519 = to_hex(self.ed25519_public().view());
    r.ns = ns;
    r.timestamp_ms = timestamp_ms;
    const auto msg = signature_message(ns, timestamp_ms);
    const auto sig = self.sign(as_bytes(msg));
    r.signature = base64_encode(sig);
    r.last_hash = std::string(last_hash);
    r.max_count = limits.max_count;
    r.max_size = limits.max_size;
    return r;
}

Result<Page> parse_response(std::string_view body) {
    if (body.size() > kMaxPageBytes)
        return bad("answer: expected at most " + std::to_string(kMaxPageBytes) + " bytes, got " +
                   std::to_string(body.size()));
    // Depth-checked before anything walks it (STYLE.md §12): a page is 3 levels deep.
    auto parsed = detail::parse_limited(body, Errc::retrieve_bad_response,
                                        "retrieve: answer (" + std::to_string(body.size()) + " bytes)");
    if (!parsed) return unexpected(std::move(parsed).error());
    const json& j = *parsed;
    if (!j.is_object()) return bad("answer: expected a JSON object, got " + type_name(j));

    Page page;
    auto msgs = j.find("messages");
    if (msgs == j.end()) return bad("answer: `messages` missing");
    if (!msgs->is_array()) return bad("messages: expected an array, got " + type_name(*msgs));
    page.messages.reserve(msgs->size());
    for (std::size_t i = 0; i < msgs->size(); ++i) {
        const json& m = (*msgs)[i];
        const std::string where = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) return bad(where + ": expected an object, got " + type_name(m));

        auto h = m.find("hash");
        if (h == m.end()) return bad(where + ".hash: missing");
        if (!h->is_string()) return bad(where + ".hash: expected a string, got " + type_name(*h));
        const auto& hash = h->get_ref<const std::string&>();
        if (!is_message_hash(hash))
            return bad(where + ".hash: expected 43 base64 characters, got " + std::to_string(hash.size()) +
                       (hash.size() == kHashLength ? " with a non-base64 character" : ""));

        auto d = m.find("data");
        if (d == m.end()) return bad(where + ".data: missing");
        if (!d->is_string()) return bad(where + ".data: expected a base64 string, got " + type_name(*d));
        const auto& text = d->get_ref<const std::string&>();
        // Check the size before decoding, so a hostile node cannot make us allocate its whole answer twice.
        if (text.size() / 4 * 3 > kMaxMessageBytes + 3)
            return bad(where + ".data: expected at most " + std::to_string(kMaxMessageBytes) + " bytes, got about " +
                       std::to_string(text.size() / 4 * 3));
        auto data = base64_decode(text);
        if (!data) return bad(where + ".data: " + data.error().message);
        if (data->size() > kMaxMessageBytes)
            return bad(where + ".data: expected at most " + std::to_string(kMaxMessageBytes) + " bytes, got " +
                       std::to_string(data->size()));

        auto ts = non_negative(m, "timestamp", where);
        if (!ts) return unexpected(std::move(ts).error());
        auto exp = non_negative(m, "expiration", where);
        if (!exp) return unexpected(std::move(exp).error());

        page.messages.push_back(StoredMessage{hash, std::move(*data), *ts, *exp});
    }

    if (auto more = j.find("more"); more != j.end() && !more->is_null()) {
        if (!more->is_boolean()) return bad("more: expected a boolean, got " + type_name(*more));
        page.more = more->get<bool>();
    }
    if (auto t = j.find("t"); t != j.end() && !t->is_null()) {
        auto v = non_negative(j, "t", "answer");
        if (!v) return unexpected(std::move(v).error());
        page.server_time_ms = *v;
    }
    return page;
}

Result<network::Swarm> NetworkReader::get_swarm(const SessionId& account) { return net_.get_swarm(account); }

Result<std::string> NetworkReader::retrieve(const SessionId& account, const network::Snode& member,
                                            const RequestBuilder& build) {
    return net_.retrieve(account, member, [&](std::int64_t now) -> Result<std::string> {
        auto req = build(now);
        if (!req) return unexpected(std::move(req).error());
        return req->params_json();
    });
}

namespace {

// The page loop both polls share: for each member, a signed retrieve resuming after its cursor
// entry (or the fallback), re-issued while it says `more`; `on_page(member, page)` sees every
// answered page after the cursor has moved past it and returns false to stop the whole poll.
struct Driven {
    std::vector<NodeOutcome> nodes;
    std::optional<std::int64_t> server_time_ms;
    bool stopped = false;
    Truncation truncated = Truncation::none;
};

// What a poll has used of its Budget, shared by members asked at the same time. The byte and item
// limits stop the following of `more`; a member's first request is still made (so every wanted
// member is read a little in every call, and a call always makes progress); the deadline stops
// every request. The poll is truncated if a request was refused; the first limit reached is
// reported.
class Gauge {
public:
    explicit Gauge(const Budget& b) : budget_(b) {
        if (b.deadline_ms != 0 && b.clock == nullptr)
            throw std::invalid_argument("retrieve: Budget::deadline_ms needs Budget::clock");
    }
    // Whether a member's first request may start.
    bool may_start() { return allow(past_deadline()); }
    // Whether a member's next page (it said `more`) may be asked for.
    bool may_continue() { return allow(past_deadline() || reason_.load() != Truncation::none); }
    void add_bytes(std::size_t n) {
        if (budget_.max_bytes != 0 && (bytes_ += n) >= budget_.max_bytes) reach(Truncation::byte_budget);
    }
    void add_items(std::size_t n) {
        if (budget_.max_items != 0 && (items_ += n) >= budget_.max_items) reach(Truncation::item_budget);
    }
    // The limit that cut the poll short, or none.
    Truncation truncated() const { return refused_.load() ? reason_.load() : Truncation::none; }

private:
    bool past_deadline() {
        if (budget_.deadline_ms == 0 || budget_.clock->now_ms() < budget_.deadline_ms) return false;
        reach(Truncation::deadline);
        return true;
    }
    bool allow(bool refuse) {
        if (refuse) refused_ = true;
        return !refuse;
    }
    void reach(Truncation why) {
        Truncation none = Truncation::none;
        reason_.compare_exchange_strong(none, why);
    }
    const Budget& budget_;
    std::atomic<std::size_t> bytes_{0}, items_{0};
    std::atomic<Truncation> reason_{Truncation::none};
    std::atomic<bool> refused_{false};
};

// One answered page: the items whose hash matches their data, and the others.
struct Answered {
    Page page;
    std::vector<RejectedItem> forged;
};
using OnPage = std::function<bool(const Ed25519PublicKey& node, Answered& answered)>;
// Sends one retrieve to one member (the reader, plus the round's "swarm moved" short cut).
using SendOne = std::function<Result<std::string>(const network::Snode& member, const RequestBuilder& build)>;

std::string short_hex(const Ed25519PublicKey& key) { return to_hex(ByteView(key.bytes).first(4)) + "…"; }

// Moves the items of `page` whose hash is not message_hash(account, ns, data) out, as rejected.
std::vector<RejectedItem> take_forged(Page& page, const ByteArray<33>& account, std::int16_t ns,
                                      const Ed25519PublicKey& node) {
    std::vector<RejectedItem> forged;
    std::erase_if(page.messages, [&](StoredMessage& m) {
        const auto actual = swarm::message_hash(account, ns, m.data);
        if (actual == m.hash) return false;
        forged.push_back(RejectedItem{m.hash, m.timestamp_ms,
                                      Error{Errc::retrieve_hash_mismatch,
                                            "retrieve: item from node " + short_hex(node) + ": hash " + m.hash +
                                                " does not match its data (expected " + actual + ")"}});
        return true;
    });
    return forged;
}

// One member's page loop. `last` is where it starts and, after, the last hash it returned (or the
// one it accepted); `take(answered)` gets each answered page and returns false to stop. nullopt
// when the budget did not let it ask at all. With `ahead`, the next page is asked for on that
// executor while `take` handles this one (two pages held at most, not one).
std::optional<NodeOutcome> run_node(const Identity& self, const network::Snode& member, std::string& last, const SendOne& send,
                     const PollOptions& options, Gauge& gauge, const std::function<bool(Answered&)>& take,
                     Executor* ahead = nullptr) {
    const auto account = self.session_id().bytes();
    std::unordered_set<HashKey, HashKey::Hasher> returned;  // every hash this member returned in this poll
    NodeOutcome outcome;
    outcome.node = member.ed25519();
    const auto request_after = [&](std::string after) -> RequestBuilder {
        return [&self, &options, after = std::move(after)](std::int64_t now) {
            return sign_request(self, options.ns, now, after, options.limits);
        };
    };
    std::optional<Result<std::string>> fetched;  // the next page, asked for ahead
    std::optional<TaskGroup> fetching;           // declared after `fetched`: waits before it goes
    for (std::size_t page_no = 0; page_no < options.max_pages_per_node; ++page_no) {
        if (page_no == 0 && !gauge.may_start()) return std::nullopt;
        Result<std::string> body = unexpected(Errc::net_timeout, "retrieve: not asked");
        if (fetching) {
            fetching->wait();  // runs the request here if no executor thread has started it
            fetching.reset();
            body = std::move(*fetched);
            fetched.reset();
        } else {
            if (page_no > 0 && !gauge.may_continue()) break;
            body = send(member, request_after(last));
        }
        if (!body) {
            outcome.error = std::move(body).error();
            break;
        }
        gauge.add_bytes(body->size());
        auto page = parse_response(*body);
        // The raw answer is not needed once parsed: hold one copy of a page, not two.
        body->clear();
        body->shrink_to_fit();
        if (!page) {
            outcome.error = std::move(page).error();
            outcome.error->message += " (from node " + short_hex(outcome.node) + ")";
            break;
        }
        outcome.error.reset();
        ++outcome.pages;
        outcome.messages += page->messages.size();
        // The member's own order goes on after its last item, whatever that item holds.
        if (!page->messages.empty()) last = page->messages.back().hash;
        // A page that brings nothing this member had not already returned in this poll (it ignores
        // last_hash, or loops) ends its loop, whatever `more` says.
        bool brought_new = false;
        for (const auto& m : page->messages) brought_new |= returned.insert(HashKey(m.hash)).second;
        const bool more = page->more && brought_new;
        gauge.add_items(page->messages.size());
        Answered answered{std::move(*page), {}};
        answered.forged = take_forged(answered.page, account, options.ns, outcome.node);
        outcome.rejected += answered.forged.size();
        if (ahead && more && page_no + 1 < options.max_pages_per_node && gauge.may_continue()) {
            fetching.emplace(*ahead);
            fetching->run([&fetched, &send, &member, build = request_after(last)] { fetched = send(member, build); });
        }
        if (!take(answered) || !more) break;  // a page asked for ahead is waited for and dropped
    }
    return outcome;
}

// A page of a member read early, with the member's resume point after it.
struct Held {
    Answered answered;
    std::string last;
};
// Hands on one page of a member: moves its cursor, passes it to on_page; false stops the poll.
using HandOn = std::function<bool(Held&)>;
// Whether handing a page on now would hand on nothing (every item and forged item already was).
// Called from the executor's threads too, at the same time as on_page.
using Redundant = std::function<bool(const Answered&)>;

// The next wanted member of a streaming poll, read on an executor while the current member's pages
// are handed on. A page of it that would hand on nothing (the members hold the same messages, the
// usual case) is passed over at once: only its resume point is kept, for the caller's thread to
// move the member's cursor. Any other page is held until the caller's thread takes it, and the
// member's next page is asked for only then, so it is never more than a page ahead. The caller
// takes a held page between the current member's pages if it has come to hand on nothing, and the
// rest once the current member is done (drain), so the order is the one-after-the-other poll's.
// If no executor thread has started the member by then, drain reads it itself.
class EarlyMember {
public:
    EarlyMember(const Identity& self, const network::Snode& member, std::string last, const SendOne& send,
                const PollOptions& options, Gauge& gauge, const Redundant& redundant)
        : self_(self), member_(member), last_(std::move(last)), send_(send), options_(options), gauge_(gauge),
          redundant_(redundant), state_(std::make_shared<State>()) {
        // The task may run after this object is gone: it touches nothing before claiming the state.
        options.executor->post([state = state_, this] {
            {
                std::lock_guard lock(state->mu);
                if (state->claimed) return;
                state->claimed = state->on_executor = true;
            }
            read();
        });
    }
    EarlyMember(const EarlyMember&) = delete;
    EarlyMember& operator=(const EarlyMember&) = delete;
    const network::Snode& member() const { return member_; }
    // Never leaves the read running: it uses the caller's send, options and gauge.
    ~EarlyMember() {
        std::unique_lock lock(state_->mu);
        if (!state_->claimed) state_->claimed = true;  // the task will find it claimed and do nothing
        else if (state_->on_executor) stop(lock);
    }

    // Between the current member's pages: moves the cursor past the pages passed over, and takes
    // the held page if it has come to hand on nothing.
    bool take_redundant(const HandOn& hand_on) {
        std::unique_lock lock(state_->mu);
        if (!take_passed(lock, hand_on)) return false;
        if (!state_->held || !redundant_(state_->held->answered)) return true;
        return take_held(lock, hand_on);
    }

    // The member's turn: hands on its pages as they come (on this thread) until it is done; its
    // outcome as run_node's.
    std::optional<NodeOutcome> drain(const HandOn& hand_on) {
        drained_ = true;
        std::unique_lock lock(state_->mu);
        if (!state_->claimed) {  // not started: read it here, as the one-after-the-other poll does
            state_->claimed = true;
            lock.unlock();
            return run_node(self_, member_, last_, send_, options_, gauge_, [&](Answered& a) {
                Held h{std::move(a), last_};
                return hand_on(h);
            }, options_.executor);
        }
        for (;;) {
            state_->cv.wait(lock, [&] { return state_->passed || state_->held || state_->finished; });
            // What was passed over came before the held page.
            const bool go = take_passed(lock, hand_on) && (!state_->held || take_held(lock, hand_on));
            if (!go) {
                stop(lock);
                break;
            }
            if (state_->finished && !state_->passed && !state_->held) break;
        }
        return std::move(state_->outcome);
    }

    // The poll ends before the member's turn: stops it, and moves its cursor past the pages it
    // passed over (`hand_on`: that hands on nothing). Its outcome if its cursor moved, else nullopt
    // (as if it had not been asked).
    std::optional<NodeOutcome> abandon(const HandOn& hand_on) {
        if (drained_) return std::nullopt;
        drained_ = true;
        std::unique_lock lock(state_->mu);
        if (!state_->claimed) {
            state_->claimed = true;  // the task will find it claimed and do nothing
            return std::nullopt;
        }
        stop(lock);
        take_passed(lock, hand_on);
        if (state_->handed == 0) return std::nullopt;
        return std::move(state_->outcome);
    }

private:
    struct State {
        std::mutex mu;
        std::condition_variable cv;
        bool claimed = false;      // the read has started (on the executor or in drain), or never will
        bool on_executor = false;  // the read runs (or ran) on the executor
        bool stop = false;         // the read's next request or page is refused
        bool finished = false;     // the read returned; `outcome` is set
        std::optional<Held> passed;  // pages passed over: the resume point after them, no items
        std::optional<Held> held;    // a page to hand on in its turn
        std::size_t handed = 0;
        std::optional<NodeOutcome> outcome;
    };

    // On the executor: the member's page loop.
    void read() {
        const SendOne stoppable = [this](const network::Snode& m, const RequestBuilder& b) -> Result<std::string> {
            {
                std::lock_guard lock(state_->mu);
                if (state_->stop) return unexpected(Errc::net_timeout, "retrieve: poll ended; member not asked");
            }
            return send_(m, b);
        };
        auto outcome = run_node(self_, member_, last_, stoppable, options_, gauge_, [this](Answered& a) {
            const bool nothing_new = redundant_(a);
            std::unique_lock lock(state_->mu);
            if (nothing_new) {
                auto t = a.page.server_time_ms;
                if (state_->passed && state_->passed->answered.page.server_time_ms)
                    t = std::max(t.value_or(0), *state_->passed->answered.page.server_time_ms);
                state_->passed = Held{Answered{Page{{}, false, t}, {}}, last_};
                state_->cv.notify_all();
                return !state_->stop;
            }
            state_->held = Held{std::move(a), last_};
            state_->cv.notify_all();
            state_->cv.wait(lock, [&] { return state_->stop || !state_->held; });
            return !state_->stop;
        });
        std::lock_guard lock(state_->mu);
        state_->outcome = std::move(outcome);
        state_->finished = true;
        state_->cv.notify_all();
    }
    // Each takes its page (the reader may then go on) and hands it on unlocked.
    bool take_passed(std::unique_lock<std::mutex>& lock, const HandOn& hand_on) {
        if (!state_->passed) return true;
        Held h = std::move(*state_->passed);
        state_->passed.reset();
        return hand_on_unlocked(lock, h, hand_on);
    }
    bool take_held(std::unique_lock<std::mutex>& lock, const HandOn& hand_on) {
        Held h = std::move(*state_->held);
        state_->held.reset();
        state_->cv.notify_all();
        return hand_on_unlocked(lock, h, hand_on);
    }
    bool hand_on_unlocked(std::unique_lock<std::mutex>& lock, Held& h, const HandOn& hand_on) {
        ++state_->handed;
        lock.unlock();
        const bool go = hand_on(h);
        lock.lock();
        return go;
    }
    void stop(std::unique_lock<std::mutex>& lock) {
        state_->stop = true;
        state_->cv.notify_all();
        state_->cv.wait(lock, [&] { return state_->finished; });
    }

    const Identity& self_;
    const network::Snode& member_;
    std::string last_;  // the read's resume point; used by one thread at a time
    const SendOne& send_;
    const PollOptions& options_;
    Gauge& gauge_;
    const Redundant& redundant_;
    std::shared_ptr<State> state_;
    bool drained_ = false;  // drain or abandon ran (the caller's thread only)
};

std::string start_of(const NodeCursor& cursor, const Ed25519PublicKey& node, std::string_view fallback) {
    if (auto it = cursor.last_hash.find(node); it != cursor.last_hash.end()) return it->second;
    return std::string(fallback);
}

// One round: asks `members` in order until options.want_answers answered: one after the other, or
// (options.executor) in concurrent waves. `streaming` (set by poll_pages: whether handing a page on
// would hand on nothing) keeps the hand-over one member after the other, in order on this thread,
// and uses the executor to ask for each next page ahead and to read the next wanted member early.
Result<Driven> drive_members(const Identity& self, std::span<const network::Snode> members, NodeCursor& cursor,
                             std::string_view fallback_last_hash, const SendOne& send, const PollOptions& options,
                             Gauge& gauge, const OnPage& on_page, const Redundant& streaming) {
    Driven out;
    std::optional<Error> first_error;
    std::size_t answered = 0;
    auto finish_node = [&](std::optional<NodeOutcome> outcome) {
        if (!outcome) return;  // not asked: the budget ran out first
        if (outcome->pages > 0) ++answered;
        if (outcome->error && !first_error) first_error = *outcome->error;
        out.nodes.push_back(std::move(*outcome));
    };
    auto note_time = [&](const Page& page) {
        if (page.server_time_ms) out.server_time_ms = std::max(out.server_time_ms.value_or(0), *page.server_time_ms);
    };
    const std::size_t want = options.want_answers == 0 ? members.size() : options.want_answers;

    if (streaming && options.executor != nullptr && want >= 2) {
        // While one member's pages are handed on, the next wanted one is read early (EarlyMember).
        const auto hand_on_of = [&](const network::Snode& member) -> HandOn {
            return [&, node = member.ed25519()](Held& h) {
                note_time(h.answered.page);
                if (!h.last.empty()) cursor.last_hash.insert_or_assign(node, h.last);
                if (!on_page(node, h.answered)) out.stopped = true;
                return !out.stopped;
            };
        };
        std::unique_ptr<EarlyMember> early;
        for (std::size_t i = 0; i < members.size() && !out.stopped && answered < want; ++i) {
            const std::unique_ptr<EarlyMember> current = std::move(early);
            // Started only when it will be asked whatever the current member does.
            HandOn early_hand_on;
            if (want - answered >= 2 && i + 1 < members.size()) {
                const network::Snode& next = members[i + 1];
                early = std::make_unique<EarlyMember>(self, next, start_of(cursor, next.ed25519(), fallback_last_hash),
                                                      send, options, gauge, streaming);
                early_hand_on = hand_on_of(next);
            }
            const HandOn own = hand_on_of(members[i]);
            const HandOn hand_on = [&](Held& h) {
                return own(h) && (!early || early->take_redundant(early_hand_on));
            };
            if (current) {
                finish_node(current->drain(hand_on));
            } else {
                std::string last = start_of(cursor, members[i].ed25519(), fallback_last_hash);
                finish_node(run_node(
                    self, members[i], last, send, options, gauge,
                    [&](Answered& a) {
                        Held h{std::move(a), last};
                        return hand_on(h);
                    },
                    options.executor));
            }
        }
        if (early) finish_node(early->abandon(hand_on_of(early->member())));
    } else if (options.executor == nullptr || want < 2 || streaming) {
        for (const auto& member : members) {
            std::string last = start_of(cursor, member.ed25519(), fallback_last_hash);
            finish_node(run_node(
                self, member, last, send, options, gauge,
                [&](Answered& answered) {
                    note_time(answered.page);
                    // Resume point for this member: the last hash it returned (or the one it accepted).
                    if (!last.empty()) cursor.last_hash.insert_or_assign(member.ed25519(), last);
                    if (!on_page(member.ed25519(), answered)) out.stopped = true;
                    return !out.stopped;
                },
                streaming ? options.executor : nullptr));
            if (out.stopped || answered >= want) break;
        }
    } else {
        // Waves of concurrent member loops, as many as answers are still wanted; a member that
        // fails is replaced by the next spare in the following wave. Pages are handed on afterwards
        // in the order of `members`, so the result is the same as the one-after-the-other poll's.
        struct Run {
            const network::Snode* member = nullptr;
            std::string last;
            std::vector<Answered> pages;
            std::optional<NodeOutcome> outcome;
        };
        std::size_t next = 0;
        while (answered < want && next < members.size()) {
            const std::size_t wave = std::min(want - answered, members.size() - next);
            std::vector<Run> runs(wave);
            for (std::size_t i = 0; i < wave; ++i) {
                runs[i].member = &members[next + i];
                runs[i].last = start_of(cursor, runs[i].member->ed25519(), fallback_last_hash);
            }
            next += wave;
            parallel_for(*options.executor, wave, [&](std::size_t i) {
                Run& r = runs[i];
                r.outcome = run_node(self, *r.member, r.last, send, options, gauge, [&](Answered& answered) {
                    r.pages.push_back(std::move(answered));
                    return true;
                });
            });
            for (auto& r : runs) {
                if (!r.last.empty()) cursor.last_hash.insert_or_assign(r.member->ed25519(), r.last);
                for (auto& answered : r.pages) {
                    note_time(answered.page);
                    if (!out.stopped && !on_page(r.member->ed25519(), answered)) out.stopped = true;
                }
                finish_node(std::move(r.outcome));
            }
            if (out.stopped) break;
        }
    }
    out.truncated = gauge.truncated();
    if (answered == 0 && out.truncated == Truncation::none) {
        if (first_error) return unexpected(std::move(*first_error));
        return unexpected(Errc::invalid_argument, "retrieve: poll: max_pages_per_node is 0");
    }
    return out;
}

// The rounds: get the swarm, order it, poll it; once more after a round every member answered 421.
Result<Driven> drive(const Identity& self, SwarmReader& reader, NodeCursor& cursor,
                     std::string_view fallback_last_hash, const PollOptions& options, const OnPage& on_page,
                     const Redundant& streaming = {}) {
    if (!fallback_last_hash.empty() && !is_message_hash(fallback_last_hash))
        return unexpected(Errc::invalid_argument, "retrieve: last_hash: expected empty or 43 base64 characters, got " +
                                                      std::to_string(fallback_last_hash.size()) + " characters");
    const SessionId account = self.session_id();
    Gauge gauge(options.budget);
    std::optional<Error> moved_error;
    for (std::size_t round = 0; round < kSwarmRounds; ++round) {
        auto swarm = reader.get_swarm(account);
        if (!swarm) return unexpected(std::move(swarm).error());
        if (swarm->nodes.empty())
            return unexpected(Errc::net_no_nodes, "retrieve: the swarm of our account has no members");
        std::vector<network::Snode> members = std::move(swarm->nodes);
        if (options.rng) shuffle(members, *options.rng);

        // After one 421 the other members of this (stale) swarm would only say the same.
        std::atomic<bool> moved = false;  // members may be asked concurrently
        const SendOne send = [&](const network::Snode& member, const RequestBuilder& build) -> Result<std::string> {
            if (moved) return unexpected(Errc::net_swarm_moved, "retrieve: swarm moved; member not asked");
            auto body = reader.retrieve(account, member, build);
            if (!body && body.error().code == Errc::net_swarm_moved) moved = true;
            return body;
        };
        auto r = drive_members(self, members, cursor, fallback_last_hash, send, options, gauge, on_page, streaming);
        if (r || r.error().code != Errc::net_swarm_moved) return r;
        moved_error = std::move(r).error();
    }
    return unexpected(std::move(*moved_error));
}

}  // namespace

Result<PollResult> poll(const Identity& self, SwarmReader& reader, NodeCursor& cursor,
                        std::string_view fallback_last_hash, const PollOptions& options) {
    // The merged stream in storage order: the first answering node's order, with every item another
    // node adds placed next to its neighbours in that node's order (after its nearest predecessor
    // already merged, else before its nearest successor, else at the end). Nodes append in arrival
    // order, so one sender's messages keep the order they were sent in, whatever their timestamps.
    std::list<StoredMessage> merged;
    std::unordered_map<std::string, std::list<StoredMessage>::iterator> index;  // hash -> item in merged
    // The current node's previous item in the merged stream (across its pages).
    std::optional<Ed25519PublicKey> current_node;
    std::optional<std::list<StoredMessage>::iterator> predecessor;
    std::vector<RejectedItem> rejected;
    std::unordered_set<HashKey, HashKey::Hasher> rejected_seen;

    auto driven = drive(self, reader, cursor, fallback_last_hash, options,
                        [&](const Ed25519PublicKey& node, Answered& answered) {
                            for (auto& f : answered.forged)
                                if (rejected_seen.insert(HashKey(f.hash)).second) rejected.push_back(std::move(f));
                            if (node != current_node) {
                                current_node = node;
                                predecessor.reset();
                            }
                            auto& items = answered.page.messages;
                            for (std::size_t k = 0; k < items.size(); ++k) {
                                if (auto it = index.find(items[k].hash); it != index.end()) {
                                    predecessor = it->second;
                                    continue;
                                }
                                auto where = merged.end();
                                if (predecessor) {
                                    where = std::next(*predecessor);
                                } else {
                                    for (std::size_t j = k + 1; j < items.size(); ++j)
                                        if (auto it = index.find(items[j].hash); it != index.end()) {
                                            where = it->second;
                                            break;
                                        }
                                }
                                auto inserted = merged.insert(where, std::move(items[k]));
                                index.emplace(inserted->hash, inserted);
                                predecessor = inserted;
                            }
                            return true;
                        });
    if (!driven) return unexpected(std::move(driven).error());

    PollResult out;
    out.truncated = driven->truncated;
    out.rejected = std::move(rejected);
    out.nodes = std::move(driven->nodes);
    out.server_time_ms = driven->server_time_ms;
    out.messages.reserve(merged.size());
    for (auto& m : merged) out.messages.push_back(std::move(m));
    return out;
}

Result<StreamResult> poll_pages(const Identity& self, SwarmReader& reader, NodeCursor& cursor,
                                std::string_view fallback_last_hash, const PageSink& sink,
                                const PollOptions& options) {
    if (!sink) throw std::invalid_argument("retrieve::poll_pages: sink must be set");
    // Only the hashes are kept across pages (to drop what an earlier node already gave), never the
    // messages: memory stays at one page plus ~60 bytes per message.
    // With an executor, each member's next page is asked for while the sink handles the current one,
    // and the next wanted member is read meanwhile: a page of it is dropped once every item of it
    // has been seen, the others wait for their turn (so at most four pages are held).
    std::unordered_set<HashKey, HashKey::Hasher> seen, rejected_seen;
    std::mutex seen_mu;  // the next member is checked against them on the executor
    const Redundant redundant = [&](const Answered& answered) {
        std::lock_guard lock(seen_mu);
        const auto is_seen = [&](const StoredMessage& m) { return seen.contains(HashKey(m.hash)); };
        const auto is_reported = [&](const RejectedItem& f) { return rejected_seen.contains(HashKey(f.hash)); };
        return std::all_of(answered.page.messages.begin(), answered.page.messages.end(), is_seen) &&
               std::all_of(answered.forged.begin(), answered.forged.end(), is_reported);
    };
    auto driven = drive(self, reader, cursor, fallback_last_hash, options,
                        [&](const Ed25519PublicKey& node, Answered& answered) {
                            FreshPage fresh;
                            fresh.messages.reserve(answered.page.messages.size());
                            {
                                std::lock_guard lock(seen_mu);
                                for (auto& m : answered.page.messages)
                                    if (seen.insert(HashKey(m.hash)).second) fresh.messages.push_back(std::move(m));
                                for (auto& f : answered.forged)
                                    if (rejected_seen.insert(HashKey(f.hash)).second)
                                        fresh.rejected.push_back(std::move(f));
                            }
                            answered.page.messages.clear();
                            if (fresh.messages.empty() && fresh.rejected.empty()) return true;
                            return sink(node, fresh, cursor);
                        },
                        redundant);
    if (!driven) return unexpected(std::move(driven).error());
    return StreamResult{std::move(driven->nodes), driven->server_time_ms, driven->stopped, driven->truncated};
}

}  // namespace session::retrieve

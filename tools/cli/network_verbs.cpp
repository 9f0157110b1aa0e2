// network_verbs.cpp: `session-cli send`, `broadcast`, `receive` and `watch`: the Client facade from a shell.
// Without --network they use the Session mainnet; with --network FILE, the local network that
// session-localnet described in FILE.
#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "cli.hpp"
#include "detail/file_read.hpp"
#include "detail/receive_state.hpp"
#include "session/client.hpp"
#include "session/envelope.hpp"
#include "session/rng.hpp"

namespace session::cli {
namespace {

using ojson = nlohmann::ordered_json;

// A network file is a few KiB (seeds, a CA certificate, perhaps a node list); this is far above
// any real one and keeps a wrong path from being read into memory.
constexpr std::uint64_t kMaxNetworkFileBytes = 8 * 1024 * 1024;

// How a wait for the network is named in the status line.
std::string short_id(const SessionId& id) { return id.hex().substr(0, 10) + "…"; }

}  // namespace

Expected<std::shared_ptr<network::Network>, Failure> start_network(const std::string& file, const std::string& label,
                                                                  network::LogFn log) {
    if (!file.empty()) {
        // The rule of every file the tools read (detail/file_read.hpp), checked here because the
        // library reads it with its own reader (NetworkConfig::from_file).
        if (auto ok = detail::check_input_file(file, {.max_bytes = kMaxNetworkFileBytes}, label); !ok)
            return Unexpected<Failure>(Failure{kUsage, ok.error().message});
    }
    auto config = file.empty() ? Result<network::NetworkConfig>(network::NetworkConfig::mainnet())
                               : network::NetworkConfig::from_file(file);
    if (!config) {
        const auto& e = config.error();
        return Unexpected<Failure>(Failure{exit_code_for_create(e), label + " " + file + ": " + e.message});
    }
    network::Options net_options;
    net_options.config = std::move(*config);
    net_options.log = std::move(log);
    try {
        return std::make_shared<network::Network>(std::move(net_options));
    } catch (const std::exception& e) {
        return Unexpected<Failure>(Failure{exit_code_for(Errc::net_init), std::string("cannot start the network: ") + e.what()});
    }
}

Expected<Client, Failure> make_client(const Args& args, Feedback& feedback, Identity identity,
                                      std::string display_name) {
    ClientOptions options;
    const std::string network_label =
        args.network_source == "--network" ? std::string("--network") : "network file (from " + args.network_source + ")";
    auto net = start_network(args.network, network_label, feedback.log_fn());
    if (!net) return Unexpected<Failure>(std::move(net).error());
    options.display_name = std::move(display_name);
    options.log = feedback.log_fn();
    if (const std::string* state = args.get("state")) {
        if (state->empty()) return Unexpected<Failure>(Failure{kUsage, "--state needs a file name"});
        options.state_path = *state;
    }
    auto client = Client::create(std::move(identity), std::move(*net), std::move(options));
    if (!client) return Unexpected<Failure>(Failure{exit_code_for_create(client.error()), client.error().message});
    return std::move(*client);
}

namespace {

void print_message(const ReceivedMessage& m, Format format, const std::vector<AttachmentOutcome>& saved = {}) {
    if (format == Format::json) {
        ojson o;
        o["hash"] = m.hash;
        o["sender_session_id"] = m.sender.hex();
        o["kind"] = std::string(to_string(m.kind));
        o["body"] = m.body;
        o["timestamp"] = m.sent_timestamp_ms;
        o["stored_timestamp"] = m.stored_timestamp_ms;
        o["expiry_ms"] = m.expiry_ms;
        o["expire_seconds"] = m.expiration_timer.count();
        o["expire_after_read"] = m.expiration_type == ExpirationType::delete_after_read;
        o["expiry"] = std::string(expiry_json_name(m.expiration_type));
        if (m.display_name) o["display_name"] = *m.display_name;
        // A sync copy (sent by our own account from another device) names its real recipient here.
        if (m.content.data_message && m.content.data_message->sync_target)
            o["sync_target"] = *m.content.data_message->sync_target;
        o["attachments"] = ojson::parse(attachments_json(m.attachments, saved));
        add_conversation_json(o, m);  // conversation_verbs.cpp
        emit(o.dump(-1, ' ', false, ojson::error_handler_t::replace));
        return;
    }
    std::string head = iso_time(m.sent_timestamp_ms) + " " + m.sender.hex();
    if (m.display_name) head += " (" + detail::escape_for_terminal(*m.display_name) + ")";
    head += " [" + std::string(to_string(m.kind)) + "]";
    if (m.expiration_timer.count())
        head += " (disappears " + std::to_string(m.expiration_timer.count()) + " s after " +
                (m.expiration_type == ExpirationType::delete_after_read ? "reading" : "sending") + ")";
    // Everything after the head is the sender's: the body, and the conversation fields (an emoji, a
    // quoted author) are escaped the same way.
    std::string line = detail::escape_for_terminal(m.body, kContinuation);
    if (auto extra = conversation_text(m); !extra.empty())
        line += (m.body.empty() ? "" : " ") + detail::escape_for_terminal(extra, kContinuation);
    emit(head + ": " + line + attachments_text(m.attachments, saved));
}

void print_skipped(const SkippedItem& s, Format format) {
    if (format == Format::json) {
        ojson o;
        o["hash"] = s.hash;
        o["stored_timestamp"] = s.stored_timestamp_ms;
        o["error"] = s.reason.message;
        emit(o.dump(-1, ' ', false, ojson::error_handler_t::replace));
    } else {
        report("skipped " + s.hash + ": " + detail::escape_for_terminal(s.reason.message));
    }
}

Expected<std::string, Failure> initial_last_hash(const Args& args) {
    const std::string* h = args.get("last-hash");
    if (!h) return std::string();
    if (h->size() != retrieve::kHashLength)
        return Unexpected<Failure>(Failure{kUsage, "--last-hash: expected a " + std::to_string(retrieve::kHashLength) +
                                                       "-character message hash, got " + std::to_string(h->size()) +
                                                       " characters"});
    return *h;
}

// What receive and watch start from: the account's Client, and where to resume (--last-hash when
// given, else where the --state file says the last receive stopped).
struct Receiver {
    Client client;
    std::string since;
};

Expected<Receiver, Failure> open_receiver(const Args& args, Feedback& feedback) {
    auto last_hash = initial_last_hash(args);
    if (!last_hash) return Unexpected<Failure>(last_hash.error());
    auto self = load_identity(args, StdinUse::free);
    if (!self) return Unexpected<Failure>(self.error());
    auto client = make_client(args, feedback, std::move(*self));
    if (!client) return Unexpected<Failure>(client.error());
    std::string since = std::move(*last_hash);
    if (!args.has("last-hash")) {
        since = client->resume_hash();
        if (!since.empty()) report("resuming after " + since + " (from --state)");
    }
    return Receiver{std::move(*client), std::move(since)};
}

// With --download DIR, each message's attachments are saved before it is printed.
void print_page(const ReceivedPage& page, Format format, Client* client = nullptr, const std::string* dir = nullptr) {
    for (const auto& m : page.messages) {
        if (client && dir && !m.attachments.empty()) print_message(m, format, save_attachments(*client, m, *dir));
        else print_message(m, format);
    }
    for (const auto& s : page.skipped) print_skipped(s, format);
}

// After Ctrl-C, how long watch lets a poll finish by itself (it does at once when it is between
// polls or printing a page) before it leaves a poll stuck in network I/O behind and exits.
constexpr auto kStopGrace = std::chrono::milliseconds(500);

// Refused before any network traffic: Client::send checks the stored size only after it has asked
// the network for the time. The same sealing (padding, profile, timer) with a timestamp of the same
// length gives the same size.
Expected<void, Failure> check_storable(const Args& args, const Identity& self, const SessionId& to,
                                       const std::string& text, const MessageSettings& settings) {
    envelope::OutgoingMessage m;
    m.body = text;
    m.timestamp_ms = system_clock()->now_ms();
    if (settings.display_name && !settings.display_name->empty()) m.display_name = settings.display_name;
    m.expiration_type = settings.expiration_type;
    m.expiration_timer = settings.expiration_timer;
    if (auto sealed = envelope::seal(self, to, m); sealed) {
        const std::size_t chars = envelope::to_swarm_data(*sealed).size();
        if (chars > kMaxSwarmDataChars)
            return Unexpected<Failure>(Failure{
                kUsage, args.verb + ": message too large: a storage server takes at most " +
                            std::to_string(kMaxSwarmDataChars) + " base64 characters (" +
                            std::to_string(retrieve::kMaxMessageBytes) + " bytes), this one needs " +
                            std::to_string(chars) + " (text " + std::to_string(text.size()) + " bytes)"});
    }
    return {};
}

// broadcast --recipients FILE: one Session ID a line, so 1 MiB lists about 15,000 recipients.
constexpr std::uint64_t kMaxRecipientsFileBytes = 1024 * 1024;

// The recipients listed in `path`, in order, each once: blank lines and # comments are skipped, a
// repeat is dropped with a warning (nobody gets the message twice). A line that is not a Session ID
// is a usage error naming its line; nothing is sent then.
Expected<std::vector<SessionId>, Failure> read_recipients(const std::string& path) {
    auto content = detail::read_file(path, {.max_bytes = kMaxRecipientsFileBytes, .allow_pipe = true}, "--recipients");
    if (!content) return Unexpected<Failure>(Failure{kUsage, content.error().message});
    std::vector<SessionId> out;
    std::unordered_map<std::string, std::size_t> seen;  // hex -> the line it was first on
    std::size_t line_no = 0;
    std::string_view rest = *content;
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        ++line_no;
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        auto id = parse_recipient("--recipients line " + std::to_string(line_no), line);
        if (!id) return Unexpected<Failure>(id.error());
        if (auto [at, fresh] = seen.emplace(id->hex(), line_no); !fresh) {
            report("warning: --recipients line " + std::to_string(line_no) + ": " + id->hex() +
                   " is listed again (first on line " + std::to_string(at->second) + "): it gets the message once");
            continue;
        }
        out.push_back(std::move(*id));
    }
    if (out.empty()) return Unexpected<Failure>(Failure{kUsage, "--recipients: no Session ID in the file"});
    return out;
}

}  // namespace

nlohmann::ordered_json sent_json(const SessionId& to, const SendResult& sent) {
    nlohmann::ordered_json o;
    o["to"] = to.hex();
    o["hash"] = sent.hash;
    o["timestamp"] = sent.timestamp_ms;
    o["expiry_ms"] = sent.expiry_ms;
    o["confirmed"] = sent.confirmed();
    o["swarm_members"] = sent.nodes.size();
    return o;
}

Expected<MessageInput, Failure> identity_and_text(const Args& args, std::size_t text_index) {
    const bool text_given = args.positional.size() > text_index;
    std::string text;
    if (text_given) {  // checked before a phrase is asked for
        auto t = message_text(args, text_index);
        if (!t) return Unexpected<Failure>(t.error());
        text = std::move(*t);
    }
    auto self = load_identity(args, text_given ? StdinUse::free : StdinUse::data);
    if (!self) return Unexpected<Failure>(self.error());
    if (!text_given) {
        auto t = message_text(args, text_index);
        if (!t) return Unexpected<Failure>(t.error());
        text = std::move(*t);
    }
    return MessageInput{std::move(*self), std::move(text)};
}

int cmd_send(const Args& args) {
    auto to = parse_recipient("recipient", args.positional[0]);
    if (!to) return fail(to.error());
    auto settings = read_message_settings(args);
    if (!settings) return fail(settings.error());
    if (args.has("attach")) return send_with_attachments(args, *to, *settings);
    auto input = identity_and_text(args, 1);
    if (!input) return fail(input.error());
    auto& self = input->self;
    const std::string& text = input->text;
    if (auto big = check_storable(args, self, *to, text, *settings); !big) return fail(big.error());
    Feedback feedback(args);
    auto client = make_client(args, feedback, std::move(self), settings->display_name.value_or(""));
    if (!client) return fail(client.error());

    auto sent = [&] {
        auto waiting = feedback.wait("sending to " + short_id(*to), &client->network());
        return client->send(*to, text, settings->send_options());
    }();
    if (!sent) {
        if (sent.error().code == Errc::key_invalid) return fail({kUsage, "recipient: " + sent.error().message});
        return fail({exit_code_for(sent.error().code), feedback.describe_failure("send", sent.error())});
    }
    if (args.format == Format::json) {
        emit(sent_json(*to, *sent).dump());
    } else {
        emit(sent->hash);
        report("sent to " + to->hex() + " at " + iso_time(sent->timestamp_ms) + ": stored by " +
               std::to_string(sent->confirmed()) + " of " + std::to_string(sent->nodes.size()) + " swarm members");
    }
    return kOk;
}

int cmd_broadcast(const Args& args) {
    const std::string* path = args.get("recipients");
    if (!path) return fail({kUsage, "broadcast needs --recipients FILE (one Session ID a line)"});
    auto settings = read_message_settings(args);
    if (!settings) return fail(settings.error());
    auto recipients = read_recipients(*path);
    if (!recipients) return fail(recipients.error());
    auto input = identity_and_text(args, 0);
    if (!input) return fail(input.error());
    auto& self = input->self;
    const std::string& text = input->text;
    // Every recipient's copy has the same size (same text, padding, profile and timer).
    if (auto big = check_storable(args, self, recipients->front(), text, *settings); !big) return fail(big.error());
    Feedback feedback(args);
    auto client = make_client(args, feedback, std::move(self), settings->display_name.value_or(""));
    if (!client) return fail(client.error());

    auto sent = [&] {
        auto waiting = feedback.wait("sending to " + std::to_string(recipients->size()) + " recipients",
                                     &client->network());
        return client->broadcast(*recipients, text, settings->send_options());
    }();
    const auto why = [&](const Error& e) {
        return e.code == Errc::key_invalid ? "recipient: " + e.message : feedback.describe_failure("", e);
    };
    std::size_t ok = 0;
    const Error* first_failure = nullptr;
    bool one_reason = true;  // every message failed, for the same reason (an unreachable network)
    for (const auto& r : sent) {
        if (r) {
            ++ok;
            one_reason = false;
        } else if (!first_failure) {
            first_failure = &r.error();
        } else if (one_reason && (r.error().code != first_failure->code || r.error().message != first_failure->message)) {
            one_reason = false;
        }
    }
    for (std::size_t i = 0; i < recipients->size(); ++i) {
        const SessionId& to = (*recipients)[i];
        const auto& r = sent[i];
        if (r) {
            emit(args.format == Format::json ? sent_json(to, *r).dump() : to.hex() + " " + r->hash);
        } else if (args.format == Format::json) {
            ojson o;
            o["to"] = to.hex();
            o["error"] = why(r.error());  // may quote a node's words: invalid UTF-8 becomes U+FFFD
            emit(o.dump(-1, ' ', false, ojson::error_handler_t::replace));
        } else if (!one_reason) {
            report("broadcast: " + to.hex() + ": " + why(r.error()));
        }
    }
    // Text: a failure every message shares is said once, not once per recipient.
    if (args.format != Format::json && first_failure && one_reason) report("broadcast: " + why(*first_failure));
    report("sent to " + std::to_string(ok) + " of " + std::to_string(recipients->size()) + " recipients");
    return first_failure ? exit_code_for(first_failure->code) : kOk;
}

int cmd_receive(const Args& args) {
    Feedback feedback(args);
    auto rx = open_receiver(args, feedback);
    if (!rx) return fail(rx.error());
    const Format format = args.format.value_or(Format::text);
    // A page at a time: output starts with the first page and memory stays at one page however
    // large the backlog.
    auto got = [&] {
        auto waiting = feedback.wait("polling your swarm", &rx->client.network());
        return rx->client.receive_pages(rx->since, [&](ReceivedPage& page) {
            print_page(page, format, &rx->client, args.get("download"));
            feedback.progress();
            return true;
        });
    }();
    if (!got) return fail({exit_code_for(got.error().code), feedback.describe_failure("receive", got.error())});
    if (format == Format::text || got->skipped > 0)
        report("receive: " + std::to_string(got->messages) + " new message(s), " + std::to_string(got->skipped) +
               " skipped; next time pass --last-hash " +
               (got->last_hash.empty() ? std::string("(none yet)") : got->last_hash));
    return kOk;
}

// watch: the polls run on a thread of their own while this thread waits for SIGINT/SIGTERM with
// sigtimedwait, so a signal is answered at once even when a poll hangs in network I/O.
int cmd_watch(const Args& args) {
    std::uint64_t interval_s = 5;
    if (args.has("interval")) {
        auto v = parse_uint_option(args, "interval", 86'400);
        if (!v) return fail(v.error());
        if (*v == 0) return fail({kUsage, "--interval: expected at least 1 second, got 0"});
        interval_s = *v;
    }
    std::optional<std::uint64_t> count;
    if (args.has("count")) {
        auto v = parse_uint_option(args, "count", 1'000'000'000);
        if (!v) return fail(v.error());
        if (*v == 0) return fail({kUsage, "--count: expected at least 1 poll, got 0"});
        count = *v;
    }
    Feedback feedback(args);
    auto rx = open_receiver(args, feedback);
    if (!rx) return fail(rx.error());

    // Blocked here, before the poller starts: it and every thread the library starts from it
    // inherit the mask, so only sigtimedwait below ever takes these signals.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    const Format format = args.format.value_or(Format::text);
    struct Shared {
        std::mutex m;
        std::condition_variable cv;
        bool stop = false, done = false;
        std::string cursor;                  // after the last page printed
        std::uint64_t polls = 0, finished = 0, failed = 0;
        std::optional<int> fatal;            // an exit code that ends watch (not a network failure)
        std::mutex printing;                 // held while a page is printed: never cut in half
    } sh;
    sh.cursor = rx->since;

    std::thread poller([&] {
        Client& client = rx->client;
        for (;;) {
            std::string since;
            {
                std::lock_guard lk(sh.m);
                if (sh.stop) break;
                ++sh.polls;
                since = sh.cursor;
            }
            auto got = [&] {
                auto waiting = feedback.wait("polling your swarm", &client.network());
                return client.receive_pages(since, [&](ReceivedPage& page) {
                    // The library has recorded the page as handed out: print it whole, even when
                    // a stop was asked for meanwhile, then stop.
                    std::lock_guard pl(sh.printing);
                    print_page(page, format, &client, args.get("download"));
                    feedback.progress();
                    std::lock_guard lk(sh.m);
                    sh.cursor = page.last_hash;
                    return !sh.stop;
                });
            }();
            std::unique_lock lk(sh.m);
            ++sh.finished;
            if (got) {
                sh.cursor = got->last_hash;
            } else if (const int code = exit_code_for(got.error().code); code != kNetwork) {
                // A local or input problem does not go away by polling again.
                sh.fatal = code;
                lk.unlock();
                report(feedback.describe_failure("watch", got.error()));
                lk.lock();
                break;
            } else {
                ++sh.failed;
                const std::string n = std::to_string(sh.polls);
                lk.unlock();
                report("watch: poll " + n + " failed (will retry): " + feedback.describe_failure("", got.error()));
                lk.lock();
            }
            if (count && sh.polls >= *count) break;
            if (sh.cv.wait_for(lk, std::chrono::seconds(interval_s), [&] { return sh.stop; })) break;
        }
        std::lock_guard lk(sh.m);
        sh.done = true;
        sh.cv.notify_all();
    });

    const timespec tick{0, 100'000'000};  // how often the end of the poller is looked for
    bool signalled = false;
    for (;;) {
        {
            std::lock_guard lk(sh.m);
            if (sh.done) break;
        }
        if (sigtimedwait(&stop_signals, nullptr, &tick) > 0) {
            signalled = true;
            break;
        }
    }
    bool finished = true;
    if (signalled) {
        std::unique_lock lk(sh.m);
        sh.stop = true;
        sh.cv.notify_all();
        finished = sh.cv.wait_for(lk, kStopGrace, [&] { return sh.done; });
    }
    auto outcome = [&] {
        std::lock_guard lk(sh.m);
        // Always where to go on from: the last message printed, or that there is none yet.
        std::string hint = sh.cursor.empty() ? "nothing received yet" : "resume with --last-hash " + sh.cursor;
        if (const std::string* state = args.get("state"))
            hint += (sh.cursor.empty() ? "; " : ", or ") + std::string("--state ") + *state + " alone resumes where this run stopped";
        report("watch: stopped after " + std::to_string(sh.polls) + " poll(s); " + hint);
        if (sh.fatal) return *sh.fatal;
        return sh.finished > 0 && sh.failed == sh.finished ? int(kNetwork) : int(kOk);  // not one poll reached the swarm
    };
    if (!finished) {
        // A poll is stuck in network I/O: leave it. Wait for a page being printed to end, say
        // where to resume, and end the process without unwinding the thread's stack.
        std::lock_guard pl(sh.printing);
        const int code = outcome();
        std::fflush(stdout);
        std::fflush(stderr);
        detail::StateLock::remove_lock_files_before_exit();
        std::_Exit(code);
    }
    poller.join();
    return outcome();
}

}  // namespace session::cli

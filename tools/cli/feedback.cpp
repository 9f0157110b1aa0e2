// feedback.cpp: what a person sees while the network verbs wait (a status line on a terminal, the
// library's log lines with --verbose/--debug) and how a failure to reach the network is worded.
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "cli.hpp"

namespace session::cli {
namespace {

using Clock = std::chrono::steady_clock;

// A wait shorter than this shows nothing; then the status line is redrawn this often.
constexpr auto kStatusDelay = std::chrono::seconds(2);
constexpr auto kStatusRefresh = std::chrono::seconds(1);
// How often the ticker looks at the clock.
constexpr auto kTick = std::chrono::milliseconds(200);
// Longest status line when the terminal's width is unknown.
constexpr std::size_t kDefaultColumns = 80;
// Longest log line printed or quoted (the library's lines are short; this bounds a surprise).
constexpr std::size_t kMaxLogLine = 400;

bool g_status_drawn = false;  // guarded by output_mutex()

// Log text is ours, but may quote a node's answer: no terminal control characters get through.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, kMaxLogLine)) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
    if (s.size() > kMaxLogLine) out += "…";
    return out;
}

const char* level_name(network::LogLevel level) {
    switch (level) {
        case network::LogLevel::debug: return "debug";
        case network::LogLevel::info: return "info";
        case network::LogLevel::warning: return "warning";
        case network::LogLevel::error: return "error";
    }
    return "log";
}

std::size_t terminal_columns() {
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col;
    return kDefaultColumns;
}

// Cuts `s` to at most `columns` - 1 characters on the screen (UTF-8 aware), so the line never wraps
// and "\r" can take it back.
std::string fit(const std::string& s, std::size_t columns) {
    std::size_t shown = 0, i = 0;
    while (i < s.size() && shown + 1 < columns) {
        const auto c = static_cast<unsigned char>(s[i]);
        i += c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
        ++shown;
    }
    return s.substr(0, std::min(i, s.size()));
}

}  // namespace

std::mutex& output_mutex() {
    static std::mutex m;
    return m;
}

void clear_status_line_locked() {
    if (!g_status_drawn) return;
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
    g_status_drawn = false;
}

struct Feedback::Wait::State {
    std::string what;
    const network::Network* net;
    Clock::time_point since;  // reset by progress()
};

struct Feedback::Impl {
    enum class Mode { silent, status, log } mode = Mode::silent;
    network::LogLevel min_level = network::LogLevel::info;
    std::string network, network_source;

    std::mutex m;  // guards the members below
    std::condition_variable cv;
    bool stopping = false;
    std::shared_ptr<Wait::State> active;  // the current wait, if any
    std::string last_line;                 // the latest info-or-above log line
    Clock::time_point drawn_at{};
    std::thread ticker;

    void draw(const std::shared_ptr<Wait::State>& wait, const std::string& last) {
        const Wait::State& w = *wait;
        const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - w.since).count();
        std::string line = "session-cli: waiting for the network: " + w.what + ": " + std::to_string(elapsed) + " s";
        if (w.net) {
            const auto st = w.net->stats();
            const auto requests = st.seed_requests + st.onion_requests;
            line += ", " + std::to_string(requests) + " request" + (requests == 1 ? "" : "s");
            if (st.failed_attempts) line += " (" + std::to_string(st.failed_attempts) + " failed)";
        }
        if (!last.empty()) line += "; last: " + last;
        std::lock_guard out(output_mutex());
        {
            // Ended meanwhile: its end already erased the line, which must not come back.
            std::lock_guard lk(m);
            if (active != wait) return;
        }
        std::fputs(("\r" + fit(line, terminal_columns()) + "\x1b[K").c_str(), stderr);
        std::fflush(stderr);
        g_status_drawn = true;
    }

    void run_ticker() {
        // A helper thread never takes a process signal: watch waits for SIGINT/SIGTERM on its
        // main thread, and a signal delivered here would end the process with the default action.
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);
        std::unique_lock lk(m);
        while (!stopping) {
            cv.wait_for(lk, kTick);
            if (stopping || !active) continue;
            const auto now = Clock::now();
            if (now - active->since < kStatusDelay || now - drawn_at < kStatusRefresh) continue;
            drawn_at = now;
            auto wait = active;
            std::string last = last_line;
            lk.unlock();  // Network::stats() takes the network's lock: never call it holding ours
            draw(wait, last);
            lk.lock();
        }
    }
};

Feedback::Feedback(const Args& args) : impl_(std::make_unique<Impl>()) {
    impl_->network = args.network;
    impl_->network_source = args.network_source;
    if (args.verbosity != Verbosity::normal) {
        impl_->mode = Impl::Mode::log;
        impl_->min_level = args.verbosity == Verbosity::debug ? network::LogLevel::debug : network::LogLevel::info;
    } else if (::isatty(STDERR_FILENO)) {
        impl_->mode = Impl::Mode::status;
        impl_->ticker = std::thread([impl = impl_.get()] { impl->run_ticker(); });
    }
}

Feedback::~Feedback() {
    if (impl_->ticker.joinable()) {
        {
            std::lock_guard lk(impl_->m);
            impl_->stopping = true;
        }
        impl_->cv.notify_all();
        impl_->ticker.join();
    }
}

network::LogFn Feedback::log_fn() {
    Impl* impl = impl_.get();
    switch (impl->mode) {
        case Impl::Mode::silent: return {};
        case Impl::Mode::log:
            return [impl](network::LogLevel level, std::string_view line) {
                if (level < impl->min_level) return;
                report(std::string("[") + level_name(level) + "] " + printable(line));
            };
        case Impl::Mode::status:
            return [impl](network::LogLevel level, std::string_view line) {
                if (level < network::LogLevel::info) return;
                std::lock_guard lk(impl->m);
                impl->last_line = printable(line);
            };
    }
    return {};
}

Feedback::Wait::Wait(std::shared_ptr<State> s, Impl* owner) : state_(std::move(s)), owner_(owner) {}
Feedback::Wait::Wait(Wait&& other) noexcept
    : state_(std::move(other.state_)), owner_(std::exchange(other.owner_, nullptr)) {}

Feedback::Wait::~Wait() {
    if (!owner_) return;
    {
        std::lock_guard lk(owner_->m);
        if (owner_->active == state_) owner_->active.reset();
    }
    std::lock_guard out(output_mutex());
    clear_status_line_locked();
}

Feedback::Wait Feedback::wait(std::string what, const network::Network* net) {
    auto state = std::make_shared<Wait::State>(Wait::State{std::move(what), net, Clock::now()});
    if (impl_->mode != Impl::Mode::status) return Wait(state, nullptr);
    std::lock_guard lk(impl_->m);
    impl_->active = state;
    impl_->last_line.clear();
    return Wait(state, impl_.get());
}

void Feedback::progress() {
    std::lock_guard lk(impl_->m);
    if (impl_->active) impl_->active->since = Clock::now();
}

std::string Feedback::describe_failure(std::string_view verb, const Error& error) const {
    const std::string prefix = verb.empty() ? std::string() : std::string(verb) + ": ";
    if (!is_unreachable(error.code)) return prefix + error.message;
    std::string out = prefix + "the network is unreachable: no seed or service node answered";
    if (!impl_->network.empty())
        out += ". Is the local network described in " + impl_->network + " (" + impl_->network_source +
               ") still running? A network file left by a session-localnet that has stopped is stale: start the "
               "network again, or give the current file with --network FILE";
    else
        out += ". Check this machine's internet connection (a firewall or proxy may block outgoing HTTPS)";
    return out + ". (" + error.message + ")";
}

}  // namespace session::cli

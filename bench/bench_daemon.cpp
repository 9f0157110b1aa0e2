// bench_daemon.cpp: sending through `session-cli daemon` vs the library directly, on an in-process
// local network (tools/localnet) with a per-hop latency on every storage node.
//   library_send_paced/N: N messages offered at DAEMON_RATE (100) msg/s to Client::send on 8
//                         threads; latency = from a message's scheduled time to send() returning.
//   daemon_send_paced/N:  the same N messages at the same rate as `send` calls on the daemon's
//                         socket; latency = from the scheduled time to its sendStatus "stored"
//                         event (the daemon stores each in its outbox first, then in the swarm).
// Counters: msgs_per_s (N over the time until the last one was stored), mean_latency_ms,
// max_latency_ms. The daemon binary: $SESSION_CLI, else session-cli beside this build's bench/.
// Environment: DAEMON_RATE (100), E2E_HOP_LATENCY_MS (20), E2E_NODES (10), E2E_SWARM_SIZE (5),
// DAEMON_LOG (a file for the daemon's log, e.g. to see where its time goes; default: discarded).
// bench-requires: client localnet store
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench_common.hpp"
#include "bench_localnet.hpp"
#include "localnet/localnet.hpp"
#include "session/client.hpp"

namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

using bench::env_size;

struct Net : bench::LocalNet {
    Net() : LocalNet("daemon") {}
};

Net& net() {
    static Net n;
    return n;
}

std::string cli_path() {
    if (const char* p = std::getenv("SESSION_CLI")) return p;
    return (fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "session-cli").string();
}

struct Stats {
    double total_s = 0, mean_ms = 0, max_ms = 0;
};

void report(benchmark::State& state, const Stats& s, std::size_t n) {
    state.counters["msgs_per_s"] = static_cast<double>(n) / s.total_s;
    state.counters["mean_latency_ms"] = s.mean_ms;
    state.counters["max_latency_ms"] = s.max_ms;
    state.counters["rate"] = static_cast<double>(env_size("DAEMON_RATE", 100));
}

void library_send_paced(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto gap = std::chrono::microseconds(1'000'000 / env_size("DAEMON_RATE", 100));
    for (auto _ : state) {
        auto client = std::move(*bench::must(
            session::Client::create(session::Identity::generate(*session::system_rng()).first, net().network()),
            "Client::create"));
        const auto to = session::Identity::generate(*session::system_rng()).first.session_id();
        bench::must(client.send(to, "warm up"), "send");  // pool, path and swarm, as the daemon has them
        std::vector<double> latency(n);
        std::atomic<std::size_t> next{0};
        const auto t0 = Clock::now();
        std::vector<std::thread> workers;
        for (int w = 0; w < 8; ++w)
            workers.emplace_back([&] {
                for (std::size_t i; (i = next++) < n;) {
                    const auto at = t0 + gap * i;
                    std::this_thread::sleep_until(at);
                    bench::must(client.send(to, "m" + std::to_string(i)), "send");
                    latency[i] = std::chrono::duration<double, std::milli>(Clock::now() - at).count();
                }
            });
        for (auto& w : workers) w.join();
        Stats s;
        s.total_s = std::chrono::duration<double>(Clock::now() - t0).count();
        for (double l : latency) s.mean_ms += l / static_cast<double>(n), s.max_ms = std::max(s.max_ms, l);
        state.SetIterationTime(s.total_s);
        report(state, s, n);
    }
}

void daemon_send_paced(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto gap = std::chrono::microseconds(1'000'000 / env_size("DAEMON_RATE", 100));
    for (auto _ : state) {
        auto [identity, phrase] = session::Identity::generate(*session::system_rng());
        const auto to = session::Identity::generate(*session::system_rng()).first.session_id();
        const fs::path dir = net().dir / ("d" + std::to_string(Clock::now().time_since_epoch().count()));
        fs::create_directories(dir);
        const std::string sock = (dir / "s").string();
        // Everything the child needs is laid out before the fork: this process has threads (the
        // local network's), so the child may only call async-signal-safe functions until it execs.
        const std::string phrase_file = (dir / "phrase").string();
        {
            const int pf = ::open(phrase_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            bench::need(pf >= 0, "phrase file");
            const auto text = phrase.view();
            bench::need(::write(pf, text.data(), text.size()) == static_cast<ssize_t>(text.size()), "phrase file");
            ::close(pf);
        }
        const char* log = std::getenv("DAEMON_LOG");
        const std::string cli = cli_path();
        const std::string data = (dir / "data").string();
        const pid_t pid = ::fork();
        if (pid == 0) {
            const int devnull = ::open("/dev/null", O_RDWR);
            ::dup2(devnull, 0), ::dup2(devnull, 1), ::dup2(devnull, 2);
            if (log && *log) {
                const int fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
                if (fd >= 0) ::dup2(fd, 2);
            }
            execl(cli.c_str(), cli.c_str(), "daemon", "--socket", sock.c_str(), "--data-dir", data.c_str(), "--network",
                  net().file.c_str(), "--phrase-file", phrase_file.c_str(), "--interval", "3600",
                  static_cast<char*>(nullptr));
            ::_exit(91);
        }
        int fd = -1;
        for (int i = 0; i < 200 && fd < 0; ++i) {
            std::this_thread::sleep_for(50ms);
            fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un a{};
            a.sun_family = AF_UNIX;
            std::memcpy(a.sun_path, sock.c_str(), sock.size());
            if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::close(fd), fd = -1;
        }
        bench::need(fd >= 0, "daemon socket");
        std::mutex mu;
        std::map<std::string, std::size_t> index_of;   // hash → message number
        std::map<std::size_t, Clock::time_point> stored_at;
        std::vector<Clock::time_point> scheduled(n);
        std::atomic<bool> done{false};
        auto write_line = [&](const json& j) {
            const std::string s = j.dump() + "\n";
            bench::need(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()), "socket write");
        };
        std::map<std::string, Clock::time_point> stored_by_hash;
        std::thread reader([&] {
            std::string buf;
            char tmp[65536];
            while (!done) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 200) <= 0) continue;
                const ssize_t r = ::recv(fd, tmp, sizeof tmp, 0);
                if (r <= 0) break;
                buf.append(tmp, static_cast<std::size_t>(r));
                for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
                    auto j = json::parse(buf.substr(0, nl));
                    buf.erase(0, nl + 1);
                    std::lock_guard l(mu);
                    if (j.contains("result") && j["result"].is_object() && j["result"].contains("hash"))
                        index_of[j["result"]["hash"]] = j["id"].get<std::size_t>();
                    if (j.value("method", "") == "event" && j["params"]["type"] == "sendStatus" &&
                        j["params"]["status"] == "stored")
                        stored_by_hash[j["params"]["hash"]] = Clock::now();
                }
            }
        });
        write_line({{"jsonrpc", "2.0"}, {"id", "sub"}, {"method", "subscribe"}, {"params", {{"since", 0}}}});
        // One message first, so the daemon has its pool, path and the swarm (as the library run has).
        write_line({{"jsonrpc", "2.0"}, {"id", n}, {"method", "send"}, {"params", {{"recipient", to.hex()}, {"message", "warm up"}}}});
        for (;;) {
            std::this_thread::sleep_for(20ms);
            std::lock_guard l(mu);
            if (!stored_by_hash.empty()) break;
        }
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < n; ++i) {
            scheduled[i] = t0 + gap * i;
            std::this_thread::sleep_until(scheduled[i]);
            write_line({{"jsonrpc", "2.0"}, {"id", i}, {"method", "send"},
                        {"params", {{"recipient", to.hex()}, {"message", "m" + std::to_string(i)}}}});
        }
        for (;;) {
            std::this_thread::sleep_for(5ms);
            std::lock_guard l(mu);
            std::size_t have = 0;
            for (const auto& [h, i] : index_of)
                if (i < n && stored_by_hash.count(h)) ++have;
            if (have == n) break;
        }
        done = true;
        reader.join();
        ::close(fd);
        ::kill(pid, SIGTERM);
        ::waitpid(pid, nullptr, 0);
        Stats s;
        Clock::time_point last = t0;
        for (const auto& [h, i] : index_of) {
            if (i >= n) continue;
            const auto at = stored_by_hash[h];
            last = std::max(last, at);
            const double l = std::chrono::duration<double, std::milli>(at - scheduled[i]).count();
            s.mean_ms += l / static_cast<double>(n);
            s.max_ms = std::max(s.max_ms, l);
        }
        s.total_s = std::chrono::duration<double>(last - t0).count();
        state.SetIterationTime(s.total_s);
        report(state, s, n);
    }
}

}  // namespace

BENCHMARK(library_send_paced)->Arg(200)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(daemon_send_paced)->Arg(200)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) { return bench::main(argc, argv); }

// bench_e2e.cpp: the Client end to end on an in-process local network (tools/localnet) with a
// per-hop latency on every storage node, over real HTTPS on loopback and real onion requests.
//   e2e_cold_send:    a new Client (no pool, no path, no swarm) sends one message: latency and the
//                     network requests it took (seed JSON-RPC + onion entries + direct RPCs).
//   e2e_warm_send:    the same Client again: latency and requests per send.
//   e2e_warm_receive: a poll with nothing new by a Client that polled before: latency and requests.
//   e2e_bulk_send:    E2E_BULK_MESSAGES (1,000) messages to E2E_BULK_RECIPIENTS (100) recipients
//                     from one Client on E2E_BULK_THREADS (16) threads: messages/s.
//   e2e_broadcast:    E2E_MANY_MESSAGES (10,000) messages, one text, to E2E_MANY_RECIPIENTS (1,000)
//                     recipients with Client::broadcast (batched by swarm, 20 stores per request),
//                     the Network's executor sized E2E_CLIENT_THREADS (2: the batched cases need no
//                     more, and the target is at most 4 client threads).
//   e2e_send_many:    the same with individual texts (Client::send_many).
//   e2e_send_async:   the individual texts through Client::send_async (callback form), all queued
//                     from the calling thread, which then waits for the last callback.
//   e2e_broadcast_unchecked, e2e_send_many_unchecked: the same with network::StoreChecks::none (no
//                     store signature verified; the default verifies every swarm member's, 5 per
//                     message here: the largest part of the client's CPU). E2E_STORE_CHECKS
//                     (every_member, first_member, none) sets it for e2e_broadcast/e2e_send_many.
//   e2e_broadcast_blocking, e2e_send_many_blocking: the same workloads through send(), one message
//                     per request, on E2E_CLIENT_THREADS threads (16 here: a send in flight holds its
//                     thread), E2E_BLOCKING_MESSAGES (1,000) of them.
//                     These six report msgs_per_s, requests_per_msg, client_threads (threads that
//                     ran client work: the executor's, the caller, and the transport's I/O threads
//                     that worked, found by name "session-io") and client_cpu_s_per_1000 (CPU
//                     seconds of those threads per 1,000 messages; the in-process nodes excluded).
//                     E2E_SYNC_COPY=1 sends sync copies too.
//   e2e_receive/N:    N (2,000, then E2E_RECEIVE_MESSAGES = 10,000) messages stored for one account
//                     (sealed by us, put in place with direct storage-RPC `batch` stores, no
//                     latency), then one receive_pages("") by a bootstrapped Client, with pages of
//                     E2E_RECEIVE_PAGE messages (0, the Client's default: the server's byte budget,
//                     about 2,000 here; 500 shows the heap held with smaller pages): wall time,
//                     messages/s, and the most heap held at once.
//   e2e_receive_all/N: the same with receive(""), which returns everything at once.
// Environment: E2E_HOP_LATENCY_MS (20), E2E_NODES (10), E2E_SWARM_SIZE (5), E2E_BATCHES_IN_FLIGHT
// (ClientOptions::max_batches_in_flight, default 24), plus the sizes above.
// The network runs in this process, so the peak RSS includes the nodes' in-memory SQLite stores;
// rss_growth_mb is how much the peak rose during the receive itself, and the heap figures
// (mallinfo2) also count the nodes' work answering the receive.
// bench-requires: client localnet envelope
#include <httplib.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

#include "bench_common.hpp"
#include "bench_localnet.hpp"
#include "localnet/localnet.hpp"
#include "session/client.hpp"
#include "session/envelope.hpp"
#include "session/executor.hpp"

namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using bench::env_size;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double peak_rss_mb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

struct Net : bench::LocalNet {
    Net() : LocalNet("e2e") {}
    // What clients asked the network for: seed JSON-RPC + onion entries + direct storage RPCs.
    std::uint64_t requests() const {
        std::uint64_t r = 0;
        for (std::size_t k = 0; k < net->seed_count(); ++k) r += net->seed_counters(k).http_requests;
        const auto t = net->total_counters();
        r += t.onion_requests;
        if (auto it = t.endpoints.find("/storage_rpc/v1"); it != t.endpoints.end()) r += it->second;
        return r;
    }
    session::ClientOptions options() const {
        session::ClientOptions o;
        o.max_batches_in_flight = std::max<std::size_t>(1, env_size("E2E_BATCHES_IN_FLIGHT", o.max_batches_in_flight));
        return o;
    }
};

Net& net() {
    static Net n;
    return n;
}

session::Client new_client() {
    return std::move(*bench::must(session::Client::create(session::Identity::generate(*session::system_rng()).first,
                                                          net().network(), net().options()),
                                  "Client::create"));
}

// ---- cold and warm send ----

void e2e_cold_send(benchmark::State& state) {
    auto& n = net();
    const auto to = session::Identity::generate(*session::system_rng()).first.session_id();
    std::uint64_t requests = 0;
    for (auto _ : state) {
        auto c = new_client();  // not timed: a Client starts with no pool, path or swarm
        n.net->reset_counters();
        const auto t0 = Clock::now();
        auto r = bench::must(c.send(to, "cold send"), "send");
        state.SetIterationTime(seconds_since(t0));
        requests += n.requests();
        benchmark::DoNotOptimize(r->hash.data());
    }
    state.counters["requests_per_send"] = static_cast<double>(requests) / static_cast<double>(state.iterations());
    state.counters["hop_latency_ms"] = static_cast<double>(n.latency.count());
}

void e2e_warm_send(benchmark::State& state) {
    auto& n = net();
    const auto to = session::Identity::generate(*session::system_rng()).first.session_id();
    static auto c = new_client();
    (void)bench::must(c.send(to, "warm-up"), "warm-up send");
    n.net->reset_counters();
    for (auto _ : state) {
        const auto t0 = Clock::now();
        auto r = bench::must(c.send(to, "warm send"), "send");
        state.SetIterationTime(seconds_since(t0));
        benchmark::DoNotOptimize(r->hash.data());
    }
    state.counters["requests_per_send"] =
        static_cast<double>(n.requests()) / static_cast<double>(state.iterations());
    state.counters["hop_latency_ms"] = static_cast<double>(n.latency.count());
}

// A bot's poll when nothing is new: receive(last_hash) by a Client that has polled before (pool,
// paths, swarm and both members' cursors known). One retrieve to each of the 2 polled members,
// asked at the same time.
void e2e_warm_receive(benchmark::State& state) {
    auto& n = net();
    auto c = new_client();
    (void)bench::must(c.send(c.session_id(), "note to self"), "warm-up send");
    std::string last = bench::must(c.receive(""), "warm-up receive")->last_hash;
    n.net->reset_counters();
    for (auto _ : state) {
        const auto t0 = Clock::now();
        auto r = bench::must(c.receive(last), "receive");
        state.SetIterationTime(seconds_since(t0));
        last = r->last_hash;
    }
    state.counters["requests_per_receive"] =
        static_cast<double>(n.requests()) / static_cast<double>(state.iterations());
    state.counters["hop_latency_ms"] = static_cast<double>(n.latency.count());
}

// ---- bulk send ----

void e2e_bulk_send(benchmark::State& state) {
    auto& n = net();
    const std::size_t messages = env_size("E2E_BULK_MESSAGES", 1000);
    const std::size_t recipient_count = env_size("E2E_BULK_RECIPIENTS", 100);
    const std::size_t threads = std::max<std::size_t>(1, env_size("E2E_BULK_THREADS", 16));
    std::vector<session::SessionId> recipients;
    for (std::size_t i = 0; i < recipient_count; ++i)
        recipients.push_back(session::Identity::generate(*session::system_rng()).first.session_id());
    auto c = new_client();
    (void)bench::must(c.send(recipients[0], "warm-up"), "warm-up send");
    double secs = 0;
    std::atomic<std::size_t> failed{0};
    for (auto _ : state) {
        n.net->reset_counters();
        std::atomic<std::size_t> next{0};
        const auto t0 = Clock::now();
        std::vector<std::thread> pool;
        for (std::size_t t = 0; t < threads; ++t)
            pool.emplace_back([&] {
                for (std::size_t i = next++; i < messages; i = next++)
                    if (!c.send(recipients[i % recipients.size()], "bulk message " + std::to_string(i))) ++failed;
            });
        for (auto& th : pool) th.join();
        secs = seconds_since(t0);
        state.SetIterationTime(secs);
    }
    state.counters["messages"] = static_cast<double>(messages);
    state.counters["recipients"] = static_cast<double>(recipient_count);
    state.counters["threads"] = static_cast<double>(threads);
    state.counters["msgs_per_s"] = static_cast<double>(messages) / secs;
    state.counters["failed"] = static_cast<double>(failed.load());
    state.counters["requests_per_send"] = static_cast<double>(n.requests()) / static_cast<double>(messages);
    state.counters["hop_latency_ms"] = static_cast<double>(n.latency.count());
}

// ---- many messages: batched (send_many / broadcast) beside blocking send() ----

/// CPU seconds the calling thread has used.
double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// CPU seconds of each of this process's transport I/O threads (curl_transport names them
/// "session-io"), by thread id: client work that runs on no executor thread.
std::map<std::string, double> io_threads_cpu_s() {
    std::map<std::string, double> out;
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        if (!std::getline(comm, name) || name != "session-io") continue;
        std::ifstream stat(task.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        auto close = line.rfind(')');
        if (close == std::string::npos || close + 2 > line.size()) continue;
        std::istringstream fields(line.substr(close + 2));  // from field 3 (state) on
        std::string skip;
        for (int f = 3; f < 14; ++f) fields >> skip;
        double utime = 0, stime = 0;
        fields >> utime >> stime;
        out[task.path().filename().string()] = (utime + stime) / tick;
    }
    return out;
}

/// The I/O threads that worked between two io_threads_cpu_s() snapshots: their CPU seconds, count.
std::pair<double, std::size_t> io_work(const std::map<std::string, double>& before,
                                       const std::map<std::string, double>& after) {
    double cpu = 0;
    std::size_t n = 0;
    for (const auto& [tid, s] : after) {
        auto it = before.find(tid);
        const double d = s - (it == before.end() ? 0.0 : it->second);
        if (d > 0) cpu += d, ++n;
    }
    return {cpu, n};
}

/// An executor that runs tasks on a thread pool and adds up the CPU time of its tasks (the client's
/// work; the in-process nodes run on their own threads and are not counted) and the threads used.
class MeasuredExecutor final : public session::Executor {
public:
    explicit MeasuredExecutor(std::size_t threads) : inner_(session::make_thread_pool({.max_threads = threads})) {}
    void post(std::function<void()> task) override {
        inner_->post([this, task = std::move(task)] {
            // A task run inside another (a group waiting runs its own) is counted by the outer one.
            thread_local int depth = 0;
            const double t0 = depth == 0 ? thread_cpu_s() : 0;
            ++depth;
            task();
            --depth;
            if (depth == 0) add(thread_cpu_s() - t0);
        });
    }
    void add(double cpu) {
        std::lock_guard lock(m_);
        cpu_s_ += cpu;
        threads_.insert(pthread_self());
    }
    void reset() {
        std::lock_guard lock(m_);
        cpu_s_ = 0;
        threads_.clear();
    }
    double cpu_s() {
        std::lock_guard lock(m_);
        return cpu_s_;
    }
    std::size_t threads() {
        std::lock_guard lock(m_);
        return threads_.size();
    }

private:
    std::shared_ptr<session::Executor> inner_;
    std::mutex m_;
    double cpu_s_ = 0;
    std::set<pthread_t> threads_;
};

struct ManyRun {
    std::size_t messages = 0;
    double secs = 0;
    std::uint64_t requests = 0;
    std::size_t threads = 0;
    double cpu_s = 0;
    std::size_t failed = 0;
    std::size_t sync_failed = 0;
    session::network::Stats client;  // the sender's Network: onion requests it sent, failed attempts, …
};

void many_counters(benchmark::State& state, const ManyRun& r, std::size_t recipients) {
    state.counters["messages"] = static_cast<double>(r.messages);
    state.counters["recipients"] = static_cast<double>(recipients);
    state.counters["msgs_per_s"] = static_cast<double>(r.messages) / r.secs;
    state.counters["requests_per_msg"] = static_cast<double>(r.requests) / static_cast<double>(r.messages);
    state.counters["client_threads"] = static_cast<double>(r.threads);
    state.counters["client_cpu_s_per_1000"] = r.cpu_s * 1000.0 / static_cast<double>(r.messages);
    state.counters["failed"] = static_cast<double>(r.failed);
    state.counters["client_onion_requests_per_msg"] =
        static_cast<double>(r.client.onion_requests) / static_cast<double>(r.messages);
    state.counters["client_failed_attempts"] = static_cast<double>(r.client.failed_attempts);
    state.counters["client_clock_syncs"] = static_cast<double>(r.client.clock_syncs);
    state.counters["sync_failed"] = static_cast<double>(r.sync_failed);
    state.counters["peak_rss_mb"] = peak_rss_mb();  // the process: client and in-process nodes
    state.counters["hop_latency_ms"] = static_cast<double>(net().latency.count());
}

enum class Many { broadcast, send_many, send_async };

/// `messages` messages to `recipient_count` recipients (message i to recipient i % count), batched
/// or one send() each, by a warmed-up Client whose Network runs on a MeasuredExecutor.
session::network::StoreChecks store_checks_from_env() {
    const char* v = std::getenv("E2E_STORE_CHECKS");
    const std::string s = v ? v : "every_member";
    if (s == "first_member") return session::network::StoreChecks::first_member;
    if (s == "none") return session::network::StoreChecks::none;
    bench::need(s == "every_member", "E2E_STORE_CHECKS: expected every_member, first_member or none");
    return session::network::StoreChecks::every_member;
}

void many_messages(benchmark::State& state, Many kind, bool blocking,
                   session::network::StoreChecks checks = store_checks_from_env()) {
    auto& n = net();
    const std::size_t recipient_count = std::max<std::size_t>(1, env_size("E2E_MANY_RECIPIENTS", 1000));
    const std::size_t messages = blocking ? env_size("E2E_BLOCKING_MESSAGES", 1000) : env_size("E2E_MANY_MESSAGES", 10000);
    const std::size_t threads = std::max<std::size_t>(1, env_size("E2E_CLIENT_THREADS", blocking ? 16 : 2));
    session::SendOptions options;
    options.sync_copy = env_size("E2E_SYNC_COPY", 0) != 0;
    std::vector<session::SessionId> recipients;
    for (std::size_t i = 0; i < recipient_count; ++i)
        recipients.push_back(session::Identity::generate(*session::system_rng()).first.session_id());
    auto exec = std::make_shared<MeasuredExecutor>(threads);
    session::network::Options no;
    no.config = *bench::must(session::network::NetworkConfig::from_file(n.file), "network file");
    no.executor = exec;
    no.store_checks = checks;
    auto network = std::make_shared<session::network::Network>(std::move(no));
    auto c = std::move(*bench::must(session::Client::create(session::Identity::generate(*session::system_rng()).first,
                                                            network, n.options()),
                                    "Client::create"));
    (void)bench::must(c.send(recipients[0], "warm-up"), "warm-up send");
    std::vector<session::SessionId> to;
    std::vector<session::OutgoingText> texts;
    for (std::size_t i = 0; i < messages; ++i) {
        to.push_back(recipients[i % recipients.size()]);
        texts.push_back({to.back(), "message " + std::to_string(i) + " for you"});
    }
    const std::string one_text = "one text for everyone";
    ManyRun run;
    run.messages = messages;
    for (auto _ : state) {
        n.net->reset_counters();
        exec->reset();
        const auto stats0 = network->stats();
        const double caller_cpu0 = thread_cpu_s();
        const auto io0 = io_threads_cpu_s();
        const auto t0 = Clock::now();
        std::vector<session::Result<session::SendResult>> results;
        if (!blocking) {
            if (kind == Many::send_async) {
                // One send_async per message from this thread, each result through its callback.
                results.assign(messages, session::unexpected(session::Errc::net_timeout, "not sent"));
                std::mutex m;
                std::condition_variable cv;
                std::size_t left = messages;
                for (std::size_t i = 0; i < messages; ++i)
                    c.send_async(to[i], texts[i].text, options, [&, i](session::Result<session::SendResult> r) {
                        results[i] = std::move(r);
                        std::lock_guard lock(m);
                        if (--left == 0) cv.notify_all();
                    });
                std::unique_lock lock(m);
                cv.wait(lock, [&] { return left == 0; });
            } else {
                results = kind == Many::broadcast ? c.broadcast(to, one_text, options) : c.send_many(texts, options);
            }
        } else {
            // The blocking path: send() per message, `threads` sends in flight (one thread each).
            results.assign(messages, session::unexpected(session::Errc::net_timeout, "not sent"));
            std::atomic<std::size_t> next{0};
            session::parallel_for(*exec, threads, [&](std::size_t) {
                for (std::size_t i = next++; i < messages; i = next++)
                    results[i] = c.send(to[i], kind == Many::broadcast ? std::string_view(one_text)
                                                                       : std::string_view(texts[i].text),
                                        options);
            });
        }
        run.secs = seconds_since(t0);
        const auto io = io_work(io0, io_threads_cpu_s());
        run.cpu_s = exec->cpu_s() + (thread_cpu_s() - caller_cpu0) + io.first;
        run.threads = exec->threads() + 1 + io.second;  // + the calling thread + the transport's I/O threads
        run.requests = n.requests();
        const auto stats1 = network->stats();
        run.client.onion_requests = stats1.onion_requests - stats0.onion_requests;
        run.client.failed_attempts = stats1.failed_attempts - stats0.failed_attempts;
        run.client.clock_syncs = stats1.clock_syncs - stats0.clock_syncs;
        for (const auto& r : results) {
            if (!r) ++run.failed;
            else if (r->sync_error) ++run.sync_failed;
        }
        state.SetIterationTime(run.secs);
    }
    many_counters(state, run, recipient_count);
    state.counters["store_checks"] = static_cast<double>(checks);  // 0 every_member, 1 first_member, 2 none
}

void e2e_broadcast(benchmark::State& state) { many_messages(state, Many::broadcast, false); }
void e2e_send_many(benchmark::State& state) { many_messages(state, Many::send_many, false); }
void e2e_broadcast_unchecked(benchmark::State& state) {
    many_messages(state, Many::broadcast, false, session::network::StoreChecks::none);
}
void e2e_send_many_unchecked(benchmark::State& state) {
    many_messages(state, Many::send_many, false, session::network::StoreChecks::none);
}
void e2e_send_async(benchmark::State& state) { many_messages(state, Many::send_async, false); }
void e2e_broadcast_blocking(benchmark::State& state) { many_messages(state, Many::broadcast, true); }
void e2e_send_many_blocking(benchmark::State& state) { many_messages(state, Many::send_many, true); }

// ---- receive ----

// Stores `count` sealed messages for `to` directly on one of its swarm members with storage-RPC
// `batch` requests (20 stores each); the member replicates to its swarm as usual.
void fill_inbox(const session::SessionId& to, std::size_t count) {
    auto& n = net();
    n.set_latency(0ms);
    const auto swarm = *bench::must(n.net->swarm_for(to.hex()), "swarm_for");
    const auto members = n.net->swarm_members(swarm);
    bench::need(!members.empty(), "swarm has members");
    const auto node = n.net->node(members[0]);
    httplib::SSLClient http(node.ip, node.port);
    http.enable_server_certificate_verification(false);  // loopback, the network's own CA
    http.set_read_timeout(60, 0);
    const auto sender = session::Identity::generate(*session::system_rng()).first;
    constexpr std::size_t kBatch = 20;  // the storage server's batch limit
    for (std::size_t done = 0; done < count;) {
        nlohmann::json reqs = nlohmann::json::array();
        const std::int64_t now = n.net->now_ms(members[0]);
        for (std::size_t k = 0; k < kBatch && done < count; ++k, ++done) {
            session::envelope::OutgoingMessage m;
            m.body = "stored message " + std::to_string(done);
            m.timestamp_ms = now - static_cast<std::int64_t>(count - done);  // distinct, ascending
            auto sealed = *bench::must(session::envelope::seal(sender, to, m), "seal");
            reqs.push_back({{"method", "store"},
                            {"params",
                             {{"pubkey", to.hex()},
                              {"namespace", 0},
                              {"data", session::envelope::to_swarm_data(sealed)},
                              {"ttl", 86400000},
                              {"timestamp", now}}}});
        }
        const nlohmann::json body = {{"method", "batch"}, {"params", {{"requests", reqs}}}};
        auto res = http.Post("/storage_rpc/v1", body.dump(), "application/json");
        bench::need(res && res->status == 200, "batch store");
    }
    n.set_latency(n.latency);
}

// A fresh account with `count` messages waiting, and a bootstrapped Client for it (pool, paths and
// swarm known: the receive measured is the retrieve and open work only).
session::Client inbox_with(std::size_t count, std::int64_t page_size) {
    auto& n = net();
    auto identity = session::Identity::generate(*session::system_rng()).first;
    const auto me = identity.session_id();
    auto o = n.options();
    o.retrieve_page_size = page_size;
    auto c = std::move(*bench::must(session::Client::create(std::move(identity), n.network(), o), "Client::create"));
    (void)bench::must(c.receive(""), "warm-up receive");  // inbox still empty
    fill_inbox(me, count);
    n.net->reset_counters();
    return c;
}

// Heap bytes in use in this process (the client and the in-process nodes), in MB.
double heap_in_use_mb() {
    const auto mi = mallinfo2();
    return static_cast<double>(mi.uordblks + mi.hblkhd) / (1024.0 * 1024.0);
}

void receive_counters(benchmark::State& state, std::size_t count, std::size_t got, std::size_t skipped, double secs) {
    state.counters["stored"] = static_cast<double>(count);
    state.counters["received"] = static_cast<double>(got);
    state.counters["skipped"] = static_cast<double>(skipped);
    state.counters["msgs_per_s"] = static_cast<double>(got) / secs;
    state.counters["requests"] = static_cast<double>(net().requests());
    state.counters["hop_latency_ms"] = static_cast<double>(net().latency.count());
}

// The page size of the receive cases: E2E_RECEIVE_PAGE, else 0 (ClientOptions::retrieve_page_size's
// default, the server's byte budget).
std::int64_t receive_page() { return static_cast<std::int64_t>(env_size("E2E_RECEIVE_PAGE", 0)); }

// receive_pages (the bounded-memory API): a page of receive_page() at a time. The heap in
// use is sampled at every page (while the page is alive), so heap_peak_growth_mb is the most the
// receive held at once; run with 2,000 and E2E_RECEIVE_MESSAGES (10,000) it should not grow with
// the total. (ru_maxrss cannot show this inside one process: it only ever rises.)
void e2e_receive(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    const auto page = receive_page();
    auto c = inbox_with(count, page);
    std::size_t got = 0, skipped = 0, pages = 0;
    double secs = 0, heap_before = 0, heap_peak = 0, rss_before = 0, rss_after = 0;
    for (auto _ : state) {
        got = skipped = pages = 0;
        rss_before = peak_rss_mb();
        heap_before = heap_peak = heap_in_use_mb();
        const auto t0 = Clock::now();
        auto r = bench::must(c.receive_pages("",
                                             [&](session::ReceivedPage& p) {
                                                 heap_peak = std::max(heap_peak, heap_in_use_mb());
                                                 got += p.messages.size();
                                                 skipped += p.skipped.size();
                                                 ++pages;
                                                 return true;
                                             }),
                             "receive_pages");
        secs = seconds_since(t0);
        rss_after = peak_rss_mb();
        state.SetIterationTime(secs);
    }
    receive_counters(state, count, got, skipped, secs);
    state.counters["page_size"] = static_cast<double>(page);
    state.counters["pages"] = static_cast<double>(pages);
    state.counters["heap_peak_growth_mb"] = heap_peak - heap_before;
    state.counters["peak_rss_mb"] = rss_after;
    state.counters["rss_growth_mb"] = rss_after - rss_before;
}

// receive(): everything in one result, for comparison; the heap it holds when it returns grows
// with the total (run last, so its peak RSS growth is its own).
void e2e_receive_all(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    auto c = inbox_with(count, receive_page());
    std::size_t got = 0, skipped = 0;
    double secs = 0, heap_before = 0, heap_held = 0, rss_before = 0, rss_after = 0;
    for (auto _ : state) {
        rss_before = peak_rss_mb();
        heap_before = heap_in_use_mb();
        const auto t0 = Clock::now();
        auto r = bench::must(c.receive(""), "receive");
        secs = seconds_since(t0);
        heap_held = heap_in_use_mb();
        rss_after = peak_rss_mb();
        state.SetIterationTime(secs);
        got = r->messages.size();
        skipped = r->skipped.size();
    }
    receive_counters(state, count, got, skipped, secs);
    state.counters["heap_held_mb"] = heap_held - heap_before;
    state.counters["peak_rss_mb"] = rss_after;
    state.counters["rss_growth_mb"] = rss_after - rss_before;
}

// Each case times itself (manual time, in ms). Registered in this order: a case run after others in
// the same process finds the nodes' stores fuller.
benchmark::internal::Benchmark* e2e_case(const char* name, void (*fn)(benchmark::State&), int iterations) {
    return benchmark::RegisterBenchmark(name, fn)->UseManualTime()->Iterations(iterations)->Unit(benchmark::kMillisecond);
}
[[maybe_unused]] const bool registered = [] {
    const auto receive_messages = static_cast<std::int64_t>(env_size("E2E_RECEIVE_MESSAGES", 10000));
    e2e_case("e2e_cold_send", e2e_cold_send, 3);
    e2e_case("e2e_warm_send", e2e_warm_send, 20);
    e2e_case("e2e_warm_receive", e2e_warm_receive, 20);
    e2e_case("e2e_bulk_send", e2e_bulk_send, 1);
    e2e_case("e2e_broadcast", e2e_broadcast, 1);
    e2e_case("e2e_send_many", e2e_send_many, 1);
    e2e_case("e2e_send_async", e2e_send_async, 1);
    e2e_case("e2e_broadcast_unchecked", e2e_broadcast_unchecked, 1);
    e2e_case("e2e_send_many_unchecked", e2e_send_many_unchecked, 1);
    e2e_case("e2e_broadcast_blocking", e2e_broadcast_blocking, 1);
    e2e_case("e2e_send_many_blocking", e2e_send_many_blocking, 1);
    e2e_case("e2e_receive", e2e_receive, 1)->Arg(2000)->Arg(receive_messages);
    e2e_case("e2e_receive_all", e2e_receive_all, 1)->Arg(receive_messages);
    return true;
}();

}  // namespace

int main(int argc, char** argv) { return bench::main(argc, argv); }

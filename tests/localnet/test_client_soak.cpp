// Soak: two clients exchange messages while faults (latency, drops, hangs, corruption, stopped
// nodes, small clock skews, accounts moving to another swarm) toggle at random on the local network. Every message whose send
// succeeded must be received exactly once (same hash, same body); a message whose send failed may
// arrive at most once; nothing else may arrive.
// SESSION_SOAK_MESSAGES sets the number of messages (default 500 for CI; 5000 is the full run).
#include "session/client.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <condition_variable>
#include <thread>

#include "localnet/localnet.hpp"
#include "test_client_support.hpp"

using namespace session;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::size_t soak_messages() {
    if (const char* v = std::getenv("SESSION_SOAK_MESSAGES"); v && *v) {
        const long n = std::strtol(v, nullptr, 10);
        if (n > 0) return static_cast<std::size_t>(n);
    }
    return 500;
}

// What one side sent: body -> hash for successful sends; bodies of failed attempts.
struct Ledger {
    std::mutex mu;
    std::map<std::string, std::string> ok;  // body -> hash
    std::set<std::string> failed;            // bodies whose send returned an error
    std::vector<std::string> errors;         // the first few of those errors, for the diagnosis
};

// What one side received: body -> count, hash -> count.
struct Inbox {
    std::map<std::string, int> bodies;
    std::map<std::string, int> hashes;
    std::map<std::string, std::string> hash_of;  // body -> hash
    std::size_t skipped = 0;
    std::size_t receive_errors = 0;
    std::string last_hash;

    // A ReceiveResult or a ReceivedPage: both carry messages, skipped and last_hash.
    template <class Batch>
    void take(const Batch& r) {
        for (const auto& m : r.messages) {
            ++bodies[m.body];
            ++hashes[m.hash];
            hash_of[m.body] = m.hash;
        }
        skipped += r.skipped.size();
        last_hash = r.last_hash;
    }
};

// One poll by client k: receive() for A, receive_pages() for B (each page taken as it comes).
bool poll_once(Client& c, int k, Inbox& in, std::mutex& mu) {
    if (k == 0) {
        auto r = c.receive(in.last_hash);
        std::lock_guard lock(mu);
        if (r) in.take(*r);
        else ++in.receive_errors;
        return bool(r);
    }
    std::string since;
    {
        std::lock_guard lock(mu);
        since = in.last_hash;
    }
    auto r = c.receive_pages(since, [&](ReceivedPage& page) {
        std::lock_guard lock(mu);
        in.take(page);
        return true;
    });
    std::lock_guard lock(mu);
    if (r) in.last_hash = r->last_hash;
    else ++in.receive_errors;
    return bool(r);
}

}  // namespace

TEST_CASE("client soak: messages under random faults are delivered exactly once", "[client][soak][localnet]") {
    const std::size_t total = soak_messages();
    localnet::Options lo;
    lo.node_count = 12;
    lo.swarm_size = 6;
    lo.control_endpoint = false;
    lo.relay_timeout = 1500ms;
    lo.peer_timeout = 800ms;
    lo.hang_time = 1500ms;
    auto started = localnet::Network::start(lo);
    REQUIRE(started);
    auto& net = **started;
    const auto dir = fs::temp_directory_path() / ("session-soak-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto file = (dir / "network.json").string();
    REQUIRE(net.write_network_file(file));

    ClientOptions co;
    const test::NetSettings soak_net{.request_timeout = 4000ms, .retrieve_timeout = 4000ms, .connect_timeout = 1500ms};
    auto [id_a, phrase_a] = Identity::generate(*system_rng());
    auto [id_b, phrase_b] = Identity::generate(*system_rng());
    auto a = Client::create(std::move(id_a), test::network_on(file, soak_net), co);
    // B reads with receive_pages, a few messages per page, so the page-at-a-time path runs under
    // the same faults (A uses receive()).
    auto co_b = co;
    co_b.retrieve_page_size = 7;
    auto b = Client::create(std::move(id_b), test::network_on(file, soak_net), co_b);
    const SecretBuffer* phrases[2] = {&phrase_a, &phrase_b};
    REQUIRE(a);
    REQUIRE(b);
    Client* clients[2] = {&*a, &*b};

    std::atomic<bool> sending_done{false};
    std::atomic<bool> faults_done{false};
    std::atomic<std::size_t> fault_actions{0};
    std::atomic<std::size_t> moves{0};
    // A move copies the whole account in the emulator and makes both clients re-read new members:
    // a few per run exercise 421 recovery without turning the soak into a copy benchmark.
    constexpr std::size_t kMaxMoves = 4;
    // Sends pass the gate; an account move closes it and waits for in-flight sends to finish.
    // (A shared_mutex would let the two senders starve the fault thread.)
    struct Gate {
        std::mutex mu;
        std::condition_variable cv;
        bool closed = false;
        int in_flight = 0;
        void enter() {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return !closed; });
            ++in_flight;
        }
        void leave() {
            std::lock_guard lock(mu);
            --in_flight;
            cv.notify_all();
        }
        void close() {
            std::unique_lock lock(mu);
            closed = true;
            cv.wait(lock, [&] { return in_flight == 0; });
        }
        void open() {
            std::lock_guard lock(mu);
            closed = false;
            cv.notify_all();
        }
    } move_gate;

    // Faults: at most 2 nodes down at once (a swarm of 6 keeps a majority), small skews only
    // (within the storage server's ±60 s), drops/hangs/corruption on a few nodes.
    std::thread faults([&] {
        std::mt19937 rng(std::random_device{}());
        std::set<std::size_t> down;
        while (!sending_done) {
            const std::size_t i = rng() % net.node_count();
            switch (rng() % 8) {
                case 0: net.set_latency(i, std::chrono::milliseconds(rng() % 150)); break;
                case 1: net.set_drop_rate(i, 0.1 + (rng() % 20) / 100.0, rng() % 2 == 0); break;
                case 2: net.set_corrupt(i, 0.2); break;
                case 3: net.set_clock_skew(i, std::chrono::seconds(static_cast<int>(rng() % 41) - 20)); break;
                case 4:
                    if (down.size() < 2 && !down.contains(i)) {
                        net.stop_node(i);
                        down.insert(i);
                    }
                    break;
                case 5:
                    if (!down.empty()) {
                        auto it = down.begin();
                        std::advance(it, rng() % down.size());
                        (void)net.start_node(*it);
                        down.erase(it);
                    }
                    break;
                case 6: net.clear_faults(); break;
                case 7:
                    // Now and then an account moves to the other swarm (its old swarm answers 421).
                    if (moves < kMaxMoves && rng() % 8 == 0) {
                        // localnet's move copies, then deletes, then switches: a store landing in
                        // between would be lost by the emulator itself, so no send runs meanwhile.
                        move_gate.close();
                        const auto& who = clients[rng() % 2]->session_id().hex();
                        auto current = net.swarm_for(who);
                        for (auto id : net.swarm_ids())
                            if (current && id != *current) {
                                (void)net.move_account(who, id);
                                ++moves;
                                break;
                            }
                        move_gate.open();
                    }
                    break;
            }
            ++fault_actions;
            std::this_thread::sleep_for(std::chrono::milliseconds(40 + rng() % 120));
        }
        net.clear_faults();
        for (auto i : down) (void)net.start_node(i);
        faults_done = true;
    });

    Ledger sent[2];  // sent[k]: what client k sent to the other
    Inbox inbox[2];
    std::mutex inbox_mu[2];

    // Receivers poll while the senders run, and then drain.
    auto receiver = [&](int k) {
        while (!faults_done) {
            poll_once(*clients[k], k, inbox[k], inbox_mu[k]);
            std::this_thread::sleep_for(100ms);
        }
    };
    std::thread recv_a(receiver, 0), recv_b(receiver, 1);

    // Senders: alternate directions; a failed send is retried as a new message (new body), as a
    // caller would, and both attempts are tracked.
    auto sender = [&](int k) {
        const int other = 1 - k;
        for (std::size_t i = k; i < total; i += 2) {
            for (int attempt = 0; attempt < 6; ++attempt) {
                const std::string body = (k == 0 ? "A>B " : "B>A ") + std::to_string(i) + " try " + std::to_string(attempt);
                Result<SendResult> r = [&] {
                    move_gate.enter();
                    auto result = clients[k]->send(clients[other]->session_id(), body);
                    move_gate.leave();
                    return result;
                }();
                std::lock_guard lock(sent[k].mu);
                if (r) {
                    sent[k].ok[body] = r->hash;
                    break;
                }
                sent[k].failed.insert(body);
                if (sent[k].errors.size() < 12) sent[k].errors.push_back(body + ": " + r.error().message);
            }
        }
    };
    std::thread send_a(sender, 0), send_b(sender, 1);
    send_a.join();
    send_b.join();
    sending_done = true;
    faults.join();
    recv_a.join();
    recv_b.join();

    // Drain without faults until every successful send arrived (bounded).
    for (int k = 0; k < 2; ++k) {
        for (int round = 0; round < 60; ++round) {
            bool complete = true;
            for (const auto& [body, hash] : sent[1 - k].ok)
                if (!inbox[k].bodies.contains(body)) complete = false;
            if (complete) break;
            poll_once(*clients[k], k, inbox[k], inbox_mu[k]);
            std::this_thread::sleep_for(200ms);
        }
    }

    std::size_t ok_total = 0, failed_total = 0;
    for (int k = 0; k < 2; ++k) {
        const auto& ledger = sent[1 - k];
        const auto& in = inbox[k];
        ok_total += ledger.ok.size();
        failed_total += ledger.failed.size();
        std::size_t missing = 0, duplicated = 0, wrong_hash = 0, unexpected = 0;
        for (const auto& [body, hash] : ledger.ok) {
            auto it = in.bodies.find(body);
            if (it == in.bodies.end()) ++missing;
            else if (it->second != 1) ++duplicated;
            else if (in.hash_of.at(body) != hash) ++wrong_hash;
        }
        for (const auto& [body, count] : in.bodies) {
            if (ledger.ok.contains(body)) continue;
            if (!ledger.failed.contains(body) || count != 1) ++unexpected;
        }
        for (const auto& [hash, count] : in.hashes)
            if (count != 1) ++duplicated;
        // Diagnosis when something is missing: does a fresh client reading every member find it?
        // (Yes: the polling logic lost it. No: the network lost it.)
        std::size_t found_by_full_read = 0;
        if (missing > 0) {
            auto full_opts = co;
            full_opts.poll_nodes = lo.node_count;
            auto fresh = Client::create(phrases[k]->view(), test::network_on(file, soak_net), full_opts);
            if (fresh) {
                auto all = fresh->receive();
                if (all)
                    for (const auto& m : all->messages)
                        if (ledger.ok.contains(m.body) && !in.bodies.contains(m.body)) ++found_by_full_read;
            }
        }
        INFO("missing found by a fresh full read: " << found_by_full_read);
        INFO("direction " << (k == 0 ? "B>A" : "A>B") << ": sent ok " << ledger.ok.size() << ", failed attempts "
                          << ledger.failed.size() << ", received " << in.bodies.size() << ", skipped " << in.skipped
                          << ", receive errors " << in.receive_errors);
        CHECK(missing == 0);
        CHECK(duplicated == 0);
        CHECK(wrong_hash == 0);
        CHECK(unexpected == 0);
        CHECK(in.skipped == 0);
    }
    std::string first_errors;  // when a send failed: why (what the caller was told)
    for (const auto& ledger : sent)
        for (const auto& e : ledger.errors) first_errors += "\n  " + e;
    INFO("first failed sends:" << first_errors);
    CHECK(ok_total == total);  // every message got through within its retries
    WARN("soak: " << total << " messages, " << failed_total << " failed send attempts (retried), " << fault_actions
                  << " fault toggles, " << moves << " swarm moves; receive errors A " << inbox[0].receive_errors << ", B "
                  << inbox[1].receive_errors);
    std::error_code ec;
    fs::remove_all(dir, ec);
}

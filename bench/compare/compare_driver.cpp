// compare_driver.cpp: session-client's half of bench/compare.sh (the side-by-side run against a
// JavaScript session.js-style client, bench/compare/js_client.mjs). In-process, so no process
// start cost is measured. Each mode prints one JSON object on stdout; bench/compare/table.mjs
// reads it. The same workload, step by step, is in js_client.mjs.
//
//   compare_driver crypto N BODY_BYTES
//       seal N messages (envelope::seal + base64 for `store`), then open them (base64 decode +
//       envelope::open); per-message CPU and wall microseconds. 20 untimed warm-up rounds first.
//       The seal is from one sender; the open runs twice: N messages from that one sender, then N
//       messages from N different senders (so no per-sender reuse can help).
//   compare_driver send NETWORK_FILE TO COLD WARM SYNC
//       COLD times: a new Client (no pool, path or swarm) sends one message; then WARM sends from
//       the last Client. SYNC=1 also stores the copy in our own swarm (SendOptions::sync_copy), as
//       session.js does on every send. Requests are what the localnet counted (control endpoint):
//       seed JSON-RPC + onion entries + direct /storage_rpc/v1.
//   compare_driver receive NETWORK_FILE PHRASE_FILE
//       a new Client from the phrase in PHRASE_FILE runs one receive_pages("") (COMPARE_PAGE per page, default 0:
//       the server's byte budget, as the JS client gets), or with `all` one receive(""): wall time, CPU time,
//       messages, requests, and the process's peak RSS.
// Timings are reported, never asserted.
#include <curl/curl.h>
#include <sodium.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "session/client.hpp"
#include "session/envelope.hpp"
#include "session/keys.hpp"
#include "session/rng.hpp"

namespace {

using json = nlohmann::json;
using Wall = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "compare_driver: %s\n", what.c_str());
    std::exit(1);
}

template <class R>
auto must(R&& r, const char* what) {
    if (!r) die(std::string(what) + ": " + r.error().message);
    return std::move(*r);
}

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
double wall_ms_since(Wall::time_point t0) {
    return std::chrono::duration<double, std::milli>(Wall::now() - t0).count();
}
double peak_rss_mb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: kilobytes
}
double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
double mean(const std::vector<double>& v) {
    return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    if (!f) die("cannot read " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// ---- the localnet's control endpoint (plain HTTP on loopback) ----

std::size_t collect(char* p, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, size * n);
    return size * n;
}

class Control {
public:
    explicit Control(std::string url) : url_(std::move(url)) {}

    json command(const json& cmd) const {
        CURL* c = curl_easy_init();
        if (!c) die("curl_easy_init");
        std::string body = cmd.dump(), answer;
        curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        const CURLcode rc = curl_easy_perform(c);
        curl_slist_free_all(headers);
        curl_easy_cleanup(c);
        if (rc != CURLE_OK) die(std::string("control request: ") + curl_easy_strerror(rc));
        auto j = json::parse(answer, nullptr, false);
        if (j.is_discarded() || !j.value("ok", false)) die("control answered: " + answer.substr(0, 200));
        return j;
    }
    void reset() const { command({{"cmd", "reset_counters"}}); }
    // The same sum bench_e2e uses: seed JSON-RPC + onion entries + direct storage RPCs.
    std::uint64_t requests() const {
        const auto j = command({{"cmd", "counters"}});
        std::uint64_t r = 0;
        for (const auto& s : j.at("seeds")) r += s.value("http_requests", std::uint64_t{0});
        for (const auto& n : j.at("nodes")) {
            r += n.value("onion_requests", std::uint64_t{0});
            if (n.contains("endpoints") && n["endpoints"].contains("/storage_rpc/v1"))
                r += n["endpoints"]["/storage_rpc/v1"].get<std::uint64_t>();
        }
        return r;
    }

private:
    std::string url_;
};

Control control_of(const std::string& network_file) {
    const auto j = json::parse(read_file(network_file), nullptr, false);
    if (j.is_discarded() || !j.contains("control")) die("network file has no control endpoint: " + network_file);
    return Control(j["control"].get<std::string>());
}

std::string body_of(std::size_t bytes) {
    std::string s;
    const std::string word = "side by side ";
    while (s.size() < bytes) s += word;
    s.resize(bytes);
    return s;
}

// ---- modes ----

int crypto(std::size_t n, std::size_t body_bytes) {
    auto& rng = *session::system_rng();
    const auto sender = session::Identity::generate(rng).first;
    const auto recipient = session::Identity::generate(rng).first;
    const auto to = recipient.session_id();
    const std::string body = body_of(body_bytes);
    const auto now = static_cast<std::int64_t>(std::time(nullptr)) * 1000;

    auto seal_one = [&](std::size_t i) {
        session::envelope::OutgoingMessage m;
        m.body = body;
        m.timestamp_ms = now + static_cast<std::int64_t>(i);
        return session::envelope::to_swarm_data(must(session::envelope::seal(sender, to, m), "seal"));
    };
    auto open_one = [&](const std::string& data) {
        const auto raw = must(session::envelope::from_swarm_data(data), "base64");
        return must(session::envelope::open(recipient, raw), "open");
    };
    for (std::size_t i = 0; i < 20; ++i) (void)open_one(seal_one(i));  // warm-up

    std::vector<std::string> sealed;
    sealed.reserve(n);
    double c0 = cpu_seconds();
    auto t0 = Wall::now();
    for (std::size_t i = 0; i < n; ++i) sealed.push_back(seal_one(i));
    const double seal_wall = wall_ms_since(t0), seal_cpu = cpu_seconds() - c0;

    std::size_t opened = 0;
    c0 = cpu_seconds();
    t0 = Wall::now();
    for (const auto& s : sealed) opened += open_one(s).body == body ? 1 : 0;
    const double open_wall = wall_ms_since(t0), open_cpu = cpu_seconds() - c0;
    if (opened != n) die("open: bodies differ");

    // The same again with every message from a different sender: no per-sender reuse is possible.
    std::vector<std::string> distinct;
    distinct.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto other = session::Identity::generate(rng).first;
        session::envelope::OutgoingMessage m;
        m.body = body;
        m.timestamp_ms = now + static_cast<std::int64_t>(i);
        distinct.push_back(session::envelope::to_swarm_data(must(session::envelope::seal(other, to, m), "seal")));
    }
    opened = 0;
    c0 = cpu_seconds();
    t0 = Wall::now();
    for (const auto& s : distinct) opened += open_one(s).body == body ? 1 : 0;
    const double open_distinct_wall = wall_ms_since(t0), open_distinct_cpu = cpu_seconds() - c0;
    if (opened != n) die("open (distinct senders): bodies differ");

    const auto per = [n](double total_us) { return total_us / static_cast<double>(n); };
    json out{{"client", "session-client"},
             {"mode", "crypto"},
             {"n", n},
             {"body_bytes", body_bytes},
             {"data_chars", sealed.empty() ? 0 : sealed[0].size()},
             {"seal_cpu_us", per(seal_cpu * 1e6)},
             {"seal_wall_us", per(seal_wall * 1e3)},
             {"open_cpu_us", per(open_cpu * 1e6)},
             {"open_wall_us", per(open_wall * 1e3)},
             {"open_distinct_cpu_us", per(open_distinct_cpu * 1e6)},
             {"open_distinct_wall_us", per(open_distinct_wall * 1e3)}};
    std::cout << out.dump() << std::endl;
    return 0;
}

// A new Network on the local network `file` describes.
std::shared_ptr<session::network::Network> network_on(const std::string& file) {
    session::network::Options o;
    o.config = must(session::network::NetworkConfig::from_file(file), "network file");
    return std::make_shared<session::network::Network>(std::move(o));
}

int send(const std::string& network_file, const std::string& to_hex, std::size_t cold, std::size_t warm,
         bool sync) {
    const auto control = control_of(network_file);
    const auto to = must(session::SessionId::parse(to_hex), "recipient");
    session::ClientOptions options;
    session::SendOptions send_options;
    send_options.sync_copy = sync;

    std::vector<double> cold_ms, cold_requests;
    std::optional<session::Client> client;
    for (std::size_t i = 0; i < cold; ++i) {
        client.reset();
        client.emplace(must(session::Client::create(session::Identity::generate(*session::system_rng()).first, network_on(network_file), options),
                            "Client::create"));
        control.reset();
        const auto t0 = Wall::now();
        auto r = must(client->send(to, "cold send " + std::to_string(i), send_options), "cold send");
        cold_ms.push_back(wall_ms_since(t0));
        cold_requests.push_back(static_cast<double>(control.requests()));
        if (sync && !r.sync_hash) die("cold send: sync copy failed");
    }
    std::vector<double> warm_ms;
    control.reset();
    for (std::size_t i = 0; i < warm; ++i) {
        const auto t0 = Wall::now();
        auto r = must(client->send(to, "warm send " + std::to_string(i), send_options), "warm send");
        warm_ms.push_back(wall_ms_since(t0));
        if (sync && !r.sync_hash) die("warm send: sync copy failed");
    }
    const double warm_requests = static_cast<double>(control.requests());
    json out{{"client", "session-client"},
             {"mode", "send"},
             {"transport", "onion"},
             {"sync_copy", sync},
             {"cold_runs", cold},
             {"cold_ms_mean", mean(cold_ms)},
             {"cold_ms", cold_ms},
             {"cold_requests_mean", mean(cold_requests)},
             {"warm_sends", warm},
             {"warm_ms_mean", mean(warm_ms)},
             {"warm_ms_median", median(warm_ms)},
             {"warm_requests_per_send", warm ? warm_requests / static_cast<double>(warm) : 0.0}};
    std::cout << out.dump() << std::endl;
    return 0;
}

int receive(const std::string& network_file, const std::string& phrase_file, bool all_at_once) {
    const auto control = control_of(network_file);
    std::string phrase = read_file(phrase_file);
    while (!phrase.empty() && (phrase.back() == '\n' || phrase.back() == '\r' || phrase.back() == ' ')) phrase.pop_back();
    session::ClientOptions options;
    // receive_pages, a page at a time: what a bot draining a backlog uses (memory bounded by the page).
    const char* page = std::getenv("COMPARE_PAGE");
    options.retrieve_page_size = page && *page ? static_cast<std::int64_t>(std::strtoll(page, nullptr, 10)) : 0;
    const double rss_before = peak_rss_mb();
    auto client = must(session::Client::create(phrase, network_on(network_file), options), "Client::create");
    sodium_memzero(phrase.data(), phrase.size());
    control.reset();
    const double c0 = cpu_seconds();
    const auto t0 = Wall::now();
    std::size_t messages = 0, skipped = 0;
    if (all_at_once) {
        // receive(): the whole backlog in one result, both members asked at the same time.
        auto r = must(client.receive(""), "receive");
        messages = r.messages.size();
        skipped = r.skipped.size();
    } else {
        auto r = must(client.receive_pages("",
                                           [&](session::ReceivedPage& p) {
                                               messages += p.messages.size();
                                               skipped += p.skipped.size();
                                               return true;
                                           }),
                      "receive_pages");
        (void)r;
    }
    const double wall = wall_ms_since(t0), cpu = cpu_seconds() - c0;
    const double requests = static_cast<double>(control.requests());
    json out{{"client", "session-client"},
             {"mode", "receive"},
             {"transport", "onion"},
             {"messages", messages},
             {"skipped", skipped},
             {"wall_ms", wall},
             {"cpu_ms", cpu * 1e3},
             {"requests", requests},
             {"peak_rss_mb", peak_rss_mb()},
             {"rss_before_mb", rss_before}};
    std::cout << out.dump() << std::endl;
    return 0;
}

std::size_t number(const char* s, const char* what) {
    char* end = nullptr;
    const auto v = std::strtoull(s, &end, 10);
    if (!end || *end) die(std::string("bad number for ") + what);
    return static_cast<std::size_t>(v);
}

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) die("sodium_init");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "crypto" && argc == 4) return crypto(number(argv[2], "N"), number(argv[3], "BODY_BYTES"));
    if (mode == "send" && argc == 7)
        return send(argv[2], argv[3], number(argv[4], "COLD"), number(argv[5], "WARM"), number(argv[6], "SYNC") != 0);
    if (mode == "receive" && (argc == 4 || (argc == 5 && std::string(argv[4]) == "all")))
        return receive(argv[2], argv[3], argc == 5);
    std::fprintf(stderr,
                 "usage: compare_driver crypto N BODY_BYTES\n"
                 "       compare_driver send NETWORK_FILE TO COLD WARM SYNC\n"
                 "       compare_driver receive NETWORK_FILE PHRASE_FILE [all]\n");
    return 2;
}

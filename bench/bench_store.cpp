// bench_store.cpp: what the local store costs per message, and its memory with 100,000 messages.
//   store_insert/<sync>: Store::insert_message of one incoming 100-byte text message (its own
//                        transaction: conversation upsert + message row), beside the primitive: the
//                        same statements with bare sqlite3 calls on the same schema and pragmas.
//                        <sync> 1 = synchronous FULL (fsync per commit, the default), 0 = NORMAL
//                        (StoreOptions::sync_every_commit false).
//   store_send/<sync>:   the outbox's cost of one send: enqueue (entry + outgoing message, one
//                        transaction) + take_due + mark_stored (two more), no primitive.
//   store_send_batch/<sync>: the same for 20 sends as the Client's outbox flushes them: 20 enqueues
//                        (one transaction each, as queue() calls arrive), one take_due of 20, the 20
//                        mark_stored in one transaction (a batch's results settled together).
//   store_memory_100k:   opens a store of 100,000 messages (1,000 conversations of 100; written
//                        once, by a child process, so the figures are not the fill's) and pages
//                        through all of it: list_conversations, then list_messages 50 at a time
//                        through every conversation. Counters: rss_mb (resident set after the
//                        open and the paging, store still open), rss_growth_mb (growth from just
//                        before the open), peak_rss_mb (getrusage ru_maxrss: this process's peak),
//                        sqlite_peak_kb (sqlite3_memory_highwater over the open and the paging),
//                        messages (read by the paging).
//   store_list_page/<where>: list_messages, a page of 50 out of the same 100,000 messages: 0 = the
//                        newest page, 1 = a page from the middle of one conversation by cursor.
//                        Counters: the store's figures: rss_mb (process resident set, store
//                        open), sqlite_mem_kb (sqlite3_memory_used), file_mb (database pages),
//                        bytes_per_message (file / messages).
// Counter us_per_msg (insert, send, send_batch): wall microseconds per message.
// Timings are wall time (UseRealTime): a commit's cost is mostly its write and fsync, not CPU.
// Files live in $BENCH_STORE_DIR (default: the system temporary directory) and are removed.
// bench-requires: store keys
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "bench_common.hpp"
#include "session/store.hpp"

namespace {
namespace fs = std::filesystem;
using namespace session::store;
using session::SessionId;

constexpr std::int64_t kNow = 1'764'000'000'000;
constexpr std::size_t kBodyBytes = 100;
constexpr std::size_t kConversations = 1000;
constexpr std::size_t kPerConversation = 100;
constexpr std::size_t kSendBatch = 20;  // network::kMaxBatchStores: one batch request's entries

// Wall time of a benchmark's loop, as a per-message counter.
struct WallPerMessage {
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    void report(benchmark::State& state, std::size_t per_iteration) const {
        const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
        const double messages = static_cast<double>(state.iterations()) * static_cast<double>(per_iteration);
        if (messages > 0) state.counters["us_per_msg"] = us / messages;
    }
};

SessionId sid(std::size_t n) {
    std::string hex = "05" + std::string(64, '0');
    const std::string digits = std::to_string(n);
    hex.replace(hex.size() - digits.size(), digits.size(), digits);
    return *SessionId::parse(hex);
}
const SessionId kMe = *SessionId::parse("05" + std::string(64, 'a'));

std::string hash(std::uint64_t n) {
    session::Bytes b(32, 0x5a);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(n >> (8 * i));
    return session::base64_encode_unpadded(b);
}

Message incoming(std::uint64_t n, const SessionId& from, std::int64_t sent_ms) {
    Message m{.hash = hash(n), .conversation = from, .sender = from, .sent_ms = sent_ms};
    m.body.assign(kBodyBytes, 'x');
    m.stored_ms = sent_ms;
    return m;
}

// A directory of its own, removed on exit.
struct Dir {
    fs::path path;
    Dir() {
        const char* base = std::getenv("BENCH_STORE_DIR");
        std::string tmpl = ((base ? fs::path(base) : fs::temp_directory_path()) / "bench-store-XXXXXX").string();
        bench::need(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
        path = tmpl;
    }
    ~Dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};
Dir& dir() {
    static Dir d;
    return d;
}

std::unique_ptr<Store> fresh_store(const std::string& name, bool sync_full) {
    const auto path = (dir().path / name).string();
    fs::remove(path);
    StoreOptions o;
    o.sync_every_commit = sync_full;
    return std::make_unique<Store>(std::move(*bench::must(Store::open(path, kMe, o), "Store::open")));
}

std::uint64_t counter = 0;  // distinct hashes across runs

// ---- insert ----

void insert_ours(benchmark::State& state) {
    auto s = fresh_store("insert.db", state.range(0) != 0);
    const auto bob = sid(1);
    WallPerMessage wall;
    for (auto _ : state) {
        ++counter;
        auto r = bench::must(s->insert_message(incoming(counter, bob, kNow + static_cast<std::int64_t>(counter))), "insert");
        benchmark::DoNotOptimize(*r);
    }
    wall.report(state, 1);
}

// The statements insert_message runs, with bare sqlite3 calls on the same schema (a file the Store
// created) and the same pragmas: BEGIN IMMEDIATE, the conversation upsert, the message INSERT,
// COMMIT. The difference is the wrapper: validation, statement cache, binding, error mapping.
void insert_primitive(benchmark::State& state) {
    const bool full = state.range(0) != 0;
    const auto path = (dir().path / "primitive.db").string();
    fs::remove(path);
    fresh_store("primitive.db", full).reset();  // creates the schema, then lets go of the file
    sqlite3* db = nullptr;
    bench::need(sqlite3_open(path.c_str(), &db) == SQLITE_OK, "sqlite3_open");
    const std::string pragmas = std::string("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;") +
                                (full ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
    bench::need(sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK, "pragmas");
    sqlite3_stmt* conv = nullptr;
    sqlite3_stmt* ins = nullptr;
    bench::need(sqlite3_prepare_v2(db, "INSERT INTO conversations(peer, state) VALUES (?, 'request') "
                                       "ON CONFLICT(peer) DO NOTHING", -1, &conv, nullptr) == SQLITE_OK,
                "prepare");
    bench::need(sqlite3_prepare_v2(db, "INSERT INTO messages(hash, conversation, sender, outgoing, sent_ms, stored_ms, "
                                       "kind, body, quote_author, quote_ms, quote_text, disappearing, "
                                       "disappearing_seconds, expires_at_ms, status, read_ms) VALUES (?, ?, ?, 0, ?, ?, "
                                       "'text', ?, NULL, NULL, NULL, 'none', 0, NULL, 'received', NULL) "
                                       "ON CONFLICT(hash) DO NOTHING", -1, &ins, nullptr) == SQLITE_OK,
                "prepare");
    const std::string bob = sid(1).hex(), body(kBodyBytes, 'x');
    for (auto _ : state) {
        ++counter;
        const std::string h = hash(counter);
        const std::int64_t t = kNow + static_cast<std::int64_t>(counter);
        bench::need(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK, "begin");
        sqlite3_bind_text(conv, 1, bob.data(), static_cast<int>(bob.size()), SQLITE_STATIC);
        bench::need(sqlite3_step(conv) == SQLITE_DONE, "conversation");
        sqlite3_reset(conv);
        sqlite3_bind_text(ins, 1, h.data(), static_cast<int>(h.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, bob.data(), static_cast<int>(bob.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, bob.data(), static_cast<int>(bob.size()), SQLITE_STATIC);
        sqlite3_bind_int64(ins, 4, t);
        sqlite3_bind_int64(ins, 5, t);
        sqlite3_bind_text(ins, 6, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
        bench::need(sqlite3_step(ins) == SQLITE_DONE, "insert");
        sqlite3_reset(ins);
        bench::need(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK, "commit");
    }
    sqlite3_finalize(conv);
    sqlite3_finalize(ins);
    sqlite3_close(db);
}

// ---- outbox ----

// One queued send: its entry and outgoing message, one transaction. Returns the entry's hash.
std::string enqueue_one(Store& s, const SessionId& to, std::int64_t& t) {
    ++counter;
    session::Bytes sealed(400, 0x42);  // about a short message's sealed envelope
    for (int i = 0; i < 8; ++i) sealed[i] = static_cast<std::uint8_t>(counter >> (8 * i));
    t = kNow + static_cast<std::int64_t>(counter);
    Message m{.hash = "", .conversation = to, .sender = kMe, .sent_ms = t, .status = MessageStatus::queued};
    m.body.assign(kBodyBytes, 'x');
    auto q = bench::must(s.enqueue({.recipient = to, .ns = 0, .data = session::base64_encode(sealed),
                                    .ttl_ms = 14LL * 86'400'000, .sent_ms = t},
                                   m),
                         "enqueue");
    return q->hash;
}

void send_ours(benchmark::State& state) {
    auto s = fresh_store("send.db", state.range(0) != 0);
    const auto bob = sid(2);
    WallPerMessage wall;
    for (auto _ : state) {
        std::int64_t t = 0;
        const auto h = enqueue_one(*s, bob, t);
        auto due = bench::must(s->take_due(t, 1), "take_due");
        bench::need(due->size() == 1, "one due entry");
        bench::must(s->mark_stored(h, t), "mark_stored");
    }
    wall.report(state, 1);
}

void send_batch_ours(benchmark::State& state) {
    auto s = fresh_store("send-batch.db", state.range(0) != 0);
    const auto bob = sid(3);
    WallPerMessage wall;
    for (auto _ : state) {
        std::int64_t t = 0;
        for (std::size_t i = 0; i < kSendBatch; ++i) enqueue_one(*s, bob, t);
        auto due = bench::must(s->take_due(t, kSendBatch), "take_due");
        bench::need(due->size() == kSendBatch, "a batch of due entries");
        bench::must(s->transaction([&]() -> session::Result<void> {
            for (const auto& e : *due)
                if (auto m = s->mark_stored(e.hash, t); !m) return session::unexpected(m.error());
            return {};
        }),
                    "mark_stored");
    }
    wall.report(state, kSendBatch);
}

// ---- 100,000 messages: listing and memory ----

std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// The 100,000-message store, written once by a child process (so this process's memory is not
// the fill's) and left closed. Returns its path.
const std::string& big_path() {
    static const std::string path = [] {
        const std::string p = (dir().path / "big.db").string();
        std::fflush(nullptr);
        const pid_t pid = ::fork();
        bench::need(pid >= 0, "fork");
        if (pid == 0) {
            {
                auto s = fresh_store("big.db", false);
                // Written in batches of one conversation (one transaction each): the fixture.
                for (std::size_t c = 0; c < kConversations; ++c) {
                    auto done = s->transaction([&]() -> session::Result<void> {
                        for (std::size_t i = 0; i < kPerConversation; ++i) {
                            const auto n = 1'000'000'000ull + c * kPerConversation + i;
                            auto r = s->insert_message(incoming(n, sid(100 + c), kNow + static_cast<std::int64_t>(i)));
                            if (!r) return session::unexpected(r.error());
                        }
                        return {};
                    });
                    if (!done) {
                        std::fprintf(stderr, "bench: fill failed: %s\n", done.error().message.c_str());
                        ::_exit(1);
                    }
                }
            }
            ::_exit(0);  // no static destructors: the directory is the parent's
        }
        int status = 0;
        bench::need(::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                    "filling the 100,000-message store");
        return p;
    }();
    return path;
}

std::unique_ptr<Store> open_big() {
    return std::make_unique<Store>(std::move(*bench::must(Store::open(big_path(), kMe, {.sync_every_commit = false}),
                                                          "Store::open")));
}

void memory_100k(benchmark::State& state) {
    big_path();  // written before the measurement
    double rss = 0, growth = 0, sqlite_peak = 0;
    std::size_t read = 0;
    for (auto _ : state) {
        const auto before = rss_bytes();
        sqlite3_memory_highwater(1);  // reset the high-water mark to what is in use now
        auto s = open_big();
        read = 0;
        auto convs = bench::must(s->list_conversations(kConversations), "list_conversations");
        bench::need(convs->size() == kConversations, "every conversation");
        for (const auto& c : *convs) {
            MessageQuery q{.after = std::nullopt, .limit = 50};
            for (std::size_t guard = 0; guard < kPerConversation; ++guard) {
                auto page = bench::must(s->list_messages(c.peer, q), "list_messages");
                read += page->messages.size();
                if (!page->next) break;
                q.after = page->next;
            }
        }
        bench::need(read == kConversations * kPerConversation, "every message");
        const auto after = rss_bytes();
        rss = static_cast<double>(after) / (1 << 20);
        growth = (static_cast<double>(after) - static_cast<double>(before)) / (1 << 20);
        sqlite_peak = static_cast<double>(sqlite3_memory_highwater(0)) / 1024;
    }
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    state.counters["rss_mb"] = rss;
    state.counters["rss_growth_mb"] = growth;
    state.counters["peak_rss_mb"] = static_cast<double>(ru.ru_maxrss) / 1024;  // ru_maxrss is in KiB
    state.counters["sqlite_peak_kb"] = sqlite_peak;
    state.counters["messages"] = static_cast<double>(read);
}

// The 100,000-message store, open for the listing benchmark (after memory_100k, which opens and
// closes its own: one Store at a time may hold the file).
struct Big {
    std::unique_ptr<Store> store;
    StoreStats stats;
    std::size_t rss = 0;
    MessageCursor middle;
};

Big& big() {
    static Big b = [] {
        Big out;
        out.store = open_big();
        out.stats = *bench::must(out.store->stats(), "stats");
        out.rss = rss_bytes();
        auto first = bench::must(out.store->list_messages(sid(100), {.after = std::nullopt, .limit = kPerConversation / 2}),
                                 "list");
        out.middle = *first->next;
        return out;
    }();
    return b;
}

void list_page_ours(benchmark::State& state) {
    auto& b = big();
    const bool middle = state.range(0) != 0;
    const MessageQuery q{.after = middle ? std::optional<MessageCursor>(b.middle) : std::nullopt, .limit = 50};
    for (auto _ : state) {
        auto page = bench::must(b.store->list_messages(sid(100), q), "list");
        bench::need(page->messages.size() == 50, "a full page");
        benchmark::DoNotOptimize(page->messages.data());
    }
    state.counters["messages"] = static_cast<double>(b.stats.messages);
    state.counters["rss_mb"] = static_cast<double>(b.rss) / (1 << 20);
    state.counters["sqlite_mem_kb"] = static_cast<double>(b.stats.sqlite_memory_bytes) / 1024;
    state.counters["file_mb"] = static_cast<double>(b.stats.file_bytes) / (1 << 20);
    state.counters["bytes_per_message"] = static_cast<double>(b.stats.file_bytes) / static_cast<double>(b.stats.messages);
}

}  // namespace

BENCHMARK(insert_ours)->Name("store_insert/ours")->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(insert_primitive)->Name("store_insert/primitive")->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(send_ours)->Name("store_send")->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(send_batch_ours)->Name("store_send_batch")->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(memory_100k)->Name("store_memory_100k")->Iterations(1)->UseRealTime();
BENCHMARK(list_page_ours)->Name("store_list_page")->Arg(0)->Arg(1)->UseRealTime();

int main(int argc, char** argv) { return bench::main(argc, argv); }

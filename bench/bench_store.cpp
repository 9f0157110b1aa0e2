// bench_store.cpp: what the local store costs per message, and its memory with 100,000 messages.
//   store_insert/<sync>: Store::insert_message of one incoming 100-byte text message (its own
//                        transaction: conversation upsert + message row), beside the primitive: the
//                        same statements with bare sqlite3 calls on the same schema and pragmas.
//                        <sync> 1 = synchronous FULL (fsync per commit, the default), 0 = NORMAL
//                        (StoreOptions::sync_every_commit false).
//   store_send/<sync>:   the outbox's cost of one send: enqueue (entry + outgoing message, one
//                        transaction) + take_due + mark_stored (two more), no primitive.
//   store_list_page/<where>: list_messages, a page of 50 out of 100,000 stored messages (100
//                        conversations of 1,000): 0 = the newest page, 1 = a page from the middle of
//                        one conversation by cursor. Counters: the store's figures with 100,000
//                        messages: rss_mb (process resident set), sqlite_mem_kb (sqlite3_memory_used),
//                        file_mb (database pages), bytes_per_message (file / messages).
// Timings are wall time (UseRealTime): a commit's cost is mostly its write and fsync, not CPU.
// Files live in $BENCH_STORE_DIR (default: the system temporary directory) and are removed.
// bench-requires: store keys
#include <sqlite3.h>
#include <unistd.h>

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
constexpr std::size_t kConversations = 100;
constexpr std::size_t kPerConversation = 1000;

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
    for (auto _ : state) {
        ++counter;
        auto r = bench::must(s->insert_message(incoming(counter, bob, kNow + static_cast<std::int64_t>(counter))), "insert");
        benchmark::DoNotOptimize(*r);
    }
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

void send_ours(benchmark::State& state) {
    auto s = fresh_store("send.db", state.range(0) != 0);
    const auto bob = sid(2);
    session::Bytes sealed(400, 0x42);  // about a short message's sealed envelope
    for (auto _ : state) {
        ++counter;
        for (int i = 0; i < 8; ++i) sealed[i] = static_cast<std::uint8_t>(counter >> (8 * i));
        const std::int64_t t = kNow + static_cast<std::int64_t>(counter);
        Message m{.hash = "", .conversation = bob, .sender = kMe, .sent_ms = t, .status = MessageStatus::queued};
        m.body.assign(kBodyBytes, 'x');
        auto q = bench::must(s->enqueue({.recipient = bob, .ns = 0, .data = session::base64_encode(sealed),
                                         .ttl_ms = 14LL * 86'400'000, .sent_ms = t},
                                        m),
                             "enqueue");
        auto due = bench::must(s->take_due(t, 1), "take_due");
        bench::need(due->size() == 1, "one due entry");
        bench::must(s->mark_stored(q->hash, t), "mark_stored");
    }
}

// ---- 100,000 messages: listing and memory ----

std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

struct Big {
    std::unique_ptr<Store> store;
    StoreStats stats;
    std::size_t rss = 0;
    MessageCursor middle;
};

Big& big() {
    static Big b = [] {
        Big out;
        out.store = fresh_store("big.db", false);
        // Written in batches of 1,000 (one transaction each): the fixture, not what is measured.
        for (std::size_t c = 0; c < kConversations; ++c) {
            bench::must(out.store->transaction([&]() -> session::Result<void> {
                for (std::size_t i = 0; i < kPerConversation; ++i) {
                    const auto n = 1'000'000'000ull + c * kPerConversation + i;
                    auto r = out.store->insert_message(incoming(n, sid(100 + c), kNow + static_cast<std::int64_t>(i)));
                    if (!r) return session::unexpected(r.error());
                }
                return {};
            }),
                        "fill");
        }
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
BENCHMARK(list_page_ours)->Name("store_list_page")->Arg(0)->Arg(1)->UseRealTime();

int main(int argc, char** argv) { return bench::main(argc, argv); }

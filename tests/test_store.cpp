#include "session/store.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "detail/receive_state.hpp"
#include "session/swarm.hpp"

using namespace session;
using namespace session::store;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kNow = 1'764'000'000'000;  // a fixed "now" (ms) for every test

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "session-store-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, ec);
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name = "store.db") const { return (path / name).string(); }
};

SessionId sid(char c) { return *SessionId::parse("05" + std::string(64, c)); }
const SessionId kMe = sid('a');
const SessionId kBob = sid('b');
const SessionId kCarol = sid('c');

// A distinct, valid 43-character hash per number.
std::string hash(std::uint64_t n) {
    Bytes b(32, 0x5a);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(n >> (8 * i));
    return base64_encode_unpadded(b);
}

Store open_store(const std::string& path, const StoreOptions& o = {}) {
    auto s = Store::open(path, kMe, o);
    if (!s) FAIL("open: " << s.error().message);
    return std::move(*s);
}

Message incoming(std::uint64_t n, const SessionId& from, std::int64_t sent_ms, std::string body = "hi") {
    return Message{.hash = hash(n), .conversation = from, .sender = from, .sent_ms = sent_ms, .body = std::move(body)};
}

Message outgoing(const SessionId& to, std::int64_t sent_ms, std::string body = "yo") {
    return Message{.hash = "", .conversation = to, .sender = kMe, .sent_ms = sent_ms, .body = std::move(body),
                   .status = MessageStatus::queued};
}

fs::perms mode(const std::string& p) { return fs::status(p).permissions() & fs::perms::all; }
constexpr fs::perms k0600 = fs::perms::owner_read | fs::perms::owner_write;

// Direct SQLite access, only to build fixtures (an old schema, another program's file).
void raw_exec(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    INFO(msg);
    REQUIRE(rc == SQLITE_OK);
}

// Runs `child` in a forked process (as an unprivileged user when we are root, so permissions
// apply) and returns its exit status. The child must not use Catch2.
int in_child(const std::function<int()>& child, bool drop_root) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (drop_root && ::geteuid() == 0) {
            if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(90);
        }
        ::_exit(child());
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

detail::ReceiveState sample_state() {
    detail::ReceiveState st;
    st.account = kMe.hex();
    st.next_seq = 5;
    st.latest = hash(3);
    st.delivered = {{hash(1), 1, kNow + 1000}, {hash(2), 2, kNow + 2000}, {hash(3), 4, kNow + 3000}};
    Ed25519PublicKey n1, n2;
    n1.bytes.fill(0x11);
    n2.bytes.fill(0x22);
    st.cursors = {{hash(2), "", retrieve::NodeCursor{{{n1, hash(2)}, {n2, hash(1)}}}},
                  {hash(3), hash(1), retrieve::NodeCursor{{{n1, hash(3)}}}}};
    return st;
}

}  // namespace

// ---- file, schema, errors --------------------------------------------------------------------------

TEST_CASE("store: a new store is created 0600 (with its WAL files) at the current schema and reopens", "[store]") {
    TempDir dir;
    const auto path = dir.file();
    {
        auto s = open_store(path);
        CHECK(*s.schema_version() == kSchemaVersion);
        CHECK(s.path() == path);
        CHECK(s.account() == kMe);
        REQUIRE(s.insert_message(incoming(1, kBob, kNow)));
        CHECK(mode(path) == k0600);
        CHECK(mode(path + "-wal") == k0600);
        CHECK(mode(path + "-shm") == k0600);
        CHECK(mode(path + ".lock") == k0600);
    }
    auto again = open_store(path);
    CHECK(*again.schema_version() == kSchemaVersion);
    auto m = again.message(hash(1));
    REQUIRE(m);
    REQUIRE(*m);
    CHECK((*m)->body == "hi");
}

TEST_CASE("store: an existing file with a wider mode is tightened to 0600", "[store]") {
    TempDir dir;
    const auto path = dir.file();
    { auto s = open_store(path); }
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
    auto s = open_store(path);
    CHECK(mode(path) == k0600);
}

TEST_CASE("store: a second Store on the same file is refused while the first lives", "[store][reject]") {
    TempDir dir;
    const auto path = dir.file();
    auto first = open_store(path);
    auto second = Store::open(path, kMe);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == Errc::store_busy);
    CHECK(second.error().message.find(path) != std::string::npos);
    // The refused open did not disturb the first one.
    CHECK(first.insert_message(incoming(1, kBob, kNow)));
    { Store gone = std::move(first); }
    CHECK(Store::open(path, kMe));
}

TEST_CASE("store: another account's store is refused", "[store][reject]") {
    TempDir dir;
    const auto path = dir.file();
    { auto s = open_store(path); }
    auto other = Store::open(path, kBob);
    REQUIRE_FALSE(other);
    CHECK(other.error().code == Errc::invalid_argument);
    CHECK(other.error().message.find("belongs to account") != std::string::npos);
}

TEST_CASE("store: a symbolic link in place of the file or its WAL is refused", "[store][reject]") {
    TempDir dir;
    const auto target = dir.file("target");
    { std::ofstream(target) << "x"; }
    fs::create_symlink(target, dir.file("link.db"));
    auto s = Store::open(dir.file("link.db"), kMe);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == Errc::invalid_argument);
    CHECK(s.error().message.find("symbolic link") != std::string::npos);

    fs::create_symlink(target, dir.file("w.db-wal"));
    auto w = Store::open(dir.file("w.db"), kMe);
    REQUIRE_FALSE(w);
    CHECK(w.error().message.find("w.db-wal") != std::string::npos);
    std::ifstream in(target);
    std::string content;
    in >> content;
    CHECK(content == "x");  // the target was not written through the links
}

TEST_CASE("store: a file that is not SQLite, another program's database and a newer schema are refused",
          "[store][reject]") {
    TempDir dir;
    SECTION("not SQLite") {
        const auto path = dir.file("junk.db");
        std::ofstream(path) << std::string(4096, 'j');
        auto s = Store::open(path, kMe);
        REQUIRE_FALSE(s);
        CHECK(s.error().code == Errc::store_corrupt);
        CHECK(s.error().message.find(path) != std::string::npos);
        CHECK(s.error().message.find("not an SQLite database") != std::string::npos);
    }
    SECTION("a damaged store") {
        const auto path = dir.file();
        {
            auto s = open_store(path);
            for (std::uint64_t i = 0; i < 200; ++i) REQUIRE(s.insert_message(incoming(i, kBob, kNow)));
        }
        // Everything after the first page overwritten (closing checkpointed the WAL into the file).
        const auto size = fs::file_size(path);
        REQUIRE(size > 8192);
        {
            std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(4096);
            const std::string junk(size - 4096, '\xA5');
            f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
        }
        // Found at open (the schema spans damaged pages) or at the first read of a damaged page.
        auto s = Store::open(path, kMe);
        Error e = s ? s->list_messages(kBob, {.limit = kMaxPageSize}).error() : s.error();
        CHECK(e.code == Errc::store_corrupt);
        CHECK(e.message.find(path) != std::string::npos);
    }
    SECTION("another program's database") {
        const auto path = dir.file("other.db");
        raw_exec(path, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
        auto s = Store::open(path, kMe);
        REQUIRE_FALSE(s);
        CHECK(s.error().code == Errc::store_corrupt);
        CHECK(s.error().message.find("another program's database") != std::string::npos);
        raw_exec(path, "PRAGMA application_id = 42");
        CHECK(Store::open(path, kMe).error().message.find("application_id 42") != std::string::npos);
    }
    SECTION("a newer schema") {
        const auto path = dir.file();
        { auto s = open_store(path); }
        raw_exec(path, "PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));
        auto s = Store::open(path, kMe);
        REQUIRE_FALSE(s);
        CHECK(s.error().code == Errc::store_too_new);
    }
}

// Schema version 1 exactly as it was released (pinned here: migrations must keep such files).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE conversations (
  peer TEXT PRIMARY KEY,
  display_name TEXT NOT NULL DEFAULT '',
  avatar_url TEXT, avatar_key BLOB, avatar_path TEXT,
  disappearing TEXT NOT NULL DEFAULT 'none',
  disappearing_seconds INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'request'
) WITHOUT ROWID;
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  conversation TEXT NOT NULL REFERENCES conversations(peer) ON DELETE CASCADE,
  sender TEXT NOT NULL,
  outgoing INTEGER NOT NULL,
  sent_ms INTEGER NOT NULL,
  stored_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  quote_author TEXT, quote_ms INTEGER, quote_text TEXT,
  disappearing TEXT NOT NULL,
  disappearing_seconds INTEGER NOT NULL,
  expires_at_ms INTEGER,
  status TEXT NOT NULL,
  read_ms INTEGER,
  receipt TEXT NOT NULL DEFAULT 'none',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_timeline ON messages(conversation, sent_ms, id);
CREATE INDEX messages_author ON messages(sender, sent_ms);
CREATE INDEX messages_sent ON messages(sent_ms);
CREATE INDEX messages_expiry ON messages(expires_at_ms) WHERE expires_at_ms IS NOT NULL;
CREATE INDEX messages_unread ON messages(conversation) WHERE status = 'received';
CREATE TABLE attachments (
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  attachment_id INTEGER NOT NULL,
  url TEXT NOT NULL, key BLOB NOT NULL, digest BLOB NOT NULL, size INTEGER NOT NULL,
  content_type TEXT NOT NULL, file_name TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
  caption TEXT NOT NULL, flags INTEGER NOT NULL, local_path TEXT NOT NULL,
  PRIMARY KEY (message_id, idx)
) WITHOUT ROWID;
CREATE TABLE reactions (
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  reactor TEXT NOT NULL,
  emoji TEXT NOT NULL,
  UNIQUE (message_id, reactor, emoji)
);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  recipient TEXT NOT NULL,
  namespace INTEGER NOT NULL,
  data TEXT NOT NULL,
  ttl_ms INTEGER NOT NULL,
  sent_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox(next_attempt_ms) WHERE status = 'queued';
CREATE INDEX outbox_expiry ON outbox(sent_ms + ttl_ms);
CREATE TABLE ledger (id INTEGER PRIMARY KEY CHECK (id = 1), next_seq INTEGER NOT NULL, latest TEXT NOT NULL);
CREATE TABLE ledger_delivered (hash TEXT PRIMARY KEY, seq INTEGER NOT NULL, expiry_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX ledger_delivered_seq ON ledger_delivered(seq);
CREATE INDEX ledger_delivered_expiry ON ledger_delivered(expiry_ms);
CREATE TABLE ledger_cursors (last_hash TEXT PRIMARY KEY, base TEXT NOT NULL, age INTEGER NOT NULL UNIQUE) WITHOUT ROWID;
CREATE TABLE ledger_cursor_nodes (
  last_hash TEXT NOT NULL REFERENCES ledger_cursors(last_hash) ON DELETE CASCADE,
  node TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (last_hash, node)
) WITHOUT ROWID;
PRAGMA application_id = 1397052238;
PRAGMA user_version = 1;
)sql";

TEST_CASE("store: a version 1 file is migrated to the current schema and keeps its data", "[store][migration]") {
    TempDir dir;
    const auto path = dir.file();
    const std::string bob = kBob.hex();
    raw_exec(path, std::string("PRAGMA journal_mode = WAL;") + kSchemaV1 +
                       "INSERT INTO meta VALUES ('account', '" + kMe.hex() + "');"
                       "INSERT INTO conversations(peer, display_name, state) VALUES ('" + bob + "', 'Bob', 'approved');"
                       "INSERT INTO messages(hash, conversation, sender, outgoing, sent_ms, stored_ms, kind, body, "
                       "disappearing, disappearing_seconds, status) VALUES ('" + hash(7) + "', '" + bob + "', '" +
                       bob + "', 0, 1000, 1001, 'text', 'from v1', 'none', 0, 'received');"
                       "INSERT INTO ledger VALUES (1, 3, '" + hash(7) + "');"
                       "INSERT INTO ledger_delivered VALUES ('" + hash(7) + "', 2, 5000);");
    auto s = open_store(path);
    CHECK(*s.schema_version() == 2);
    auto m = s.message(hash(7));
    REQUIRE(m);
    REQUIRE(*m);
    CHECK((*m)->body == "from v1");
    auto c = s.conversation(kBob);
    REQUIRE(c);
    REQUIRE(*c);
    CHECK((*c)->display_name == "Bob");
    CHECK((*c)->unread == 1);
    auto ledger = s.load_receive_state();
    REQUIRE(ledger);
    REQUIRE(*ledger);
    CHECK((*ledger)->next_seq == 3);
    CHECK((*ledger)->delivered.size() == 1);
    // Version 2's tables work.
    auto seq = s.append_event("message", R"({"hash":"x"})", kNow);
    REQUIRE(seq);
    CHECK(*seq == 1);
}

// ---- messages ----------------------------------------------------------------------------------------

TEST_CASE("store: an incoming message round-trips with attachments and quote; the same hash twice is one",
          "[store][messages]") {
    TempDir dir;
    auto s = open_store(dir.file());
    auto m = incoming(1, kBob, kNow, "hello");
    m.stored_ms = kNow + 5;
    m.kind = MessageKind::text;
    m.quote = Quote{kMe, kNow - 100, "earlier"};
    m.attachments = {Attachment{.id = 0xFFFF'FFFF'FFFF'FFF0ull, .url = "http://files/1", .key = Bytes(64, 7),
                                .digest = Bytes(32, 9), .size = 1234, .content_type = "image/png",
                                .file_name = "a.png", .width = 10, .height = 20, .caption = "cap", .flags = 1},
                     Attachment{.url = "http://files/2", .size = 5}};
    auto first = s.insert_message(m);
    REQUIRE(first);
    CHECK(*first);
    m.body = "changed";
    auto dup = s.insert_message(m);
    REQUIRE(dup);
    CHECK_FALSE(*dup);  // a message received twice: nothing changes

    auto got = s.message(hash(1));
    REQUIRE(got);
    REQUIRE(*got);
    const auto& g = **got;
    CHECK(g.body == "hello");
    CHECK(g.sender == kBob);
    CHECK(g.conversation == kBob);
    CHECK_FALSE(g.outgoing);
    CHECK(g.status == MessageStatus::received);
    CHECK(g.sent_ms == kNow);
    CHECK(g.stored_ms == kNow + 5);
    REQUIRE(g.quote);
    CHECK(*g.quote == *m.quote);
    REQUIRE(g.attachments.size() == 2);
    CHECK(g.attachments[0] == m.attachments[0]);
    CHECK(g.attachments[1] == m.attachments[1]);
    CHECK_FALSE(g.expires_at_ms);

    REQUIRE(*s.set_attachment_path(hash(1), 1, "/data/att/2"));
    CHECK((*s.message(hash(1)))->attachments[1].local_path == "/data/att/2");
    CHECK_FALSE(*s.set_attachment_path(hash(1), 2, "/nowhere"));

    auto none = s.message(hash(99));
    REQUIRE(none);
    CHECK_FALSE(*none);

    // The peer wrote first: a request.
    auto c = s.conversation(kBob);
    REQUIRE(*c);
    CHECK((*c)->state == ConversationState::request);
    CHECK((*c)->unread == 1);
    CHECK((*c)->last_message_ms == kNow);
}

TEST_CASE("store: insert_message rejects a bad hash, a status of the wrong direction and a bad timer",
          "[store][messages][reject]") {
    TempDir dir;
    auto s = open_store(dir.file());
    auto bad_hash = incoming(1, kBob, kNow);
    bad_hash.hash = "short";
    CHECK(s.insert_message(bad_hash).error().code == Errc::invalid_argument);
    auto wrong = incoming(2, kBob, kNow);
    wrong.status = MessageStatus::sent;
    CHECK(s.insert_message(wrong).error().message.find("incoming") != std::string::npos);
    auto mine = outgoing(kBob, kNow);
    mine.hash = hash(3);
    mine.status = MessageStatus::read;
    CHECK(s.insert_message(mine).error().code == Errc::invalid_argument);
    auto timer = incoming(4, kBob, kNow);
    timer.expiration_type = ExpirationType::delete_after_send;
    CHECK(s.insert_message(timer).error().code == Errc::invalid_argument);
    CHECK(s.stats()->messages == 0);
}

TEST_CASE("store: list_messages pages by time with cursors that stay valid as messages arrive", "[store][messages]") {
    TempDir dir;
    auto s = open_store(dir.file());
    // 25 messages, four at a time sharing a timestamp (row order breaks the tie; the first page
    // ends inside such a group), plus another conversation.
    for (std::uint64_t i = 0; i < 25; ++i) REQUIRE(s.insert_message(incoming(i, kBob, kNow + static_cast<std::int64_t>(i / 4))));
    REQUIRE(s.insert_message(incoming(100, kCarol, kNow)));

    std::vector<std::string> seen;
    MessageQuery q{.limit = 10};
    auto p1 = s.list_messages(kBob, q);
    REQUIRE(p1);
    REQUIRE(p1->messages.size() == 10);
    REQUIRE(p1->next);
    for (auto& m : p1->messages) seen.push_back(m.hash);
    CHECK(p1->messages.front().hash == hash(24));  // newest first
    CHECK(p1->messages.back().sent_ms == kNow + 3);  // 15 of 12..15

    // A new message arrives between pages; and the cursor survives a trip through its token.
    REQUIRE(s.insert_message(incoming(200, kBob, kNow + 100)));
    auto tok = MessageCursor::parse(p1->next->token());
    REQUIRE(tok);
    CHECK(*tok == *p1->next);
    q.after = *tok;
    auto p2 = s.list_messages(kBob, q);
    REQUIRE(p2);
    REQUIRE(p2->messages.size() == 10);
    for (auto& m : p2->messages) seen.push_back(m.hash);
    q.after = *p2->next;
    auto p3 = s.list_messages(kBob, q);
    REQUIRE(p3);
    CHECK(p3->messages.size() == 5);
    CHECK_FALSE(p3->next);
    for (auto& m : p3->messages) seen.push_back(m.hash);
    std::vector<std::string> expected;
    for (int i = 24; i >= 0; --i) expected.push_back(hash(static_cast<std::uint64_t>(i)));
    CHECK(seen == expected);  // each once, in order, the newcomer not mixed in

    // Oldest first, from the start.
    auto asc = s.list_messages(kBob, {.limit = 3, .order = Order::oldest_first});
    REQUIRE(asc);
    REQUIRE(asc->messages.size() == 3);
    CHECK(asc->messages[0].hash == hash(0));
    CHECK(asc->messages[2].hash == hash(2));
    auto asc2 = s.list_messages(kBob, {.after = asc->next, .limit = 1000, .order = Order::oldest_first});
    REQUIRE(asc2);
    REQUIRE(asc2->messages.size() == 23);
    CHECK(asc2->messages.front().hash == hash(3));  // the rest of the group of 0..3
    CHECK(asc2->messages.back().hash == hash(200));

    CHECK(s.list_messages(kBob, {.limit = 0}).error().code == Errc::invalid_argument);
    CHECK(s.list_messages(kBob, {.limit = kMaxPageSize + 1}).error().code == Errc::invalid_argument);
    CHECK_FALSE(MessageCursor::parse("12"));
    CHECK_FALSE(MessageCursor::parse("1.x"));
    CHECK_FALSE(MessageCursor::parse(".1"));
}

TEST_CASE("store: mark_read reads up to a time, starts delete-after-read timers, and purge removes them",
          "[store][messages][expiry]") {
    TempDir dir;
    auto s = open_store(dir.file());
    auto dar = incoming(1, kBob, kNow);
    dar.expiration_type = ExpirationType::delete_after_read;
    dar.expiration_timer = std::chrono::seconds(60);
    REQUIRE(s.insert_message(dar));
    REQUIRE(s.insert_message(incoming(2, kBob, kNow + 10)));
    REQUIRE(s.insert_message(incoming(3, kBob, kNow + 20)));
    CHECK_FALSE((*s.message(hash(1)))->expires_at_ms);  // not read yet: no timer
    CHECK((*s.conversation(kBob))->unread == 3);

    const std::int64_t read_at = kNow + 1000;
    auto read = s.mark_read(kBob, kNow + 10, read_at);
    REQUIRE(read);
    CHECK(*read == std::vector<std::int64_t>{kNow, kNow + 10});
    CHECK((*s.conversation(kBob))->unread == 1);
    auto m1 = **s.message(hash(1));
    CHECK(m1.status == MessageStatus::read);
    CHECK(m1.read_ms == read_at);
    CHECK(m1.expires_at_ms == read_at + 60'000);
    CHECK_FALSE((*s.message(hash(2)))->expires_at_ms);
    CHECK(s.mark_read(kBob, kNow + 10, read_at)->empty());  // already read

    auto early = s.purge_expired(read_at + 59'999);
    REQUIRE(early);
    CHECK(early->hashes.empty());
    auto purged = s.purge_expired(read_at + 60'000);
    REQUIRE(purged);
    CHECK(purged->hashes == std::vector<std::string>{hash(1)});
    CHECK_FALSE(*s.message(hash(1)));
    CHECK(*s.message(hash(2)));
}

TEST_CASE("store: purge removes delete-after-send messages at their time and everything after 14 days",
          "[store][messages][expiry]") {
    TempDir dir;
    auto s = open_store(dir.file());
    auto das = incoming(1, kBob, kNow);
    das.expiration_type = ExpirationType::delete_after_send;
    das.expiration_timer = std::chrono::seconds(30);
    das.attachments = {Attachment{.url = "u", .local_path = "/data/a1"}};
    REQUIRE(s.insert_message(das));
    CHECK((*s.message(hash(1)))->expires_at_ms == kNow + 30'000);
    // An outgoing delete-after-read message: its author has read it, so its timer runs from sending.
    auto mine = outgoing(kBob, kNow);
    mine.hash = hash(2);
    mine.status = MessageStatus::sent;
    mine.expiration_type = ExpirationType::delete_after_read;
    mine.expiration_timer = std::chrono::seconds(3600);
    REQUIRE(s.insert_message(mine));
    CHECK((*s.message(hash(2)))->expires_at_ms == kNow + 3'600'000);
    REQUIRE(s.insert_message(incoming(3, kCarol, kNow)));                 // a plain message
    REQUIRE(s.insert_message(incoming(4, kCarol, kNow + 86'400'000)));    // a day younger

    auto r = s.purge_expired(kNow + 30'000);
    REQUIRE(r);
    CHECK(r->hashes == std::vector<std::string>{hash(1)});
    CHECK(r->attachment_paths == std::vector<std::string>{"/data/a1"});
    // 14 days after kNow (+1 ms): messages sent at kNow go, the younger one stays.
    auto old = s.purge_expired(kNow + kHistoryRetention.count() + 1);
    REQUIRE(old);
    CHECK(old->hashes.size() == 2);
    CHECK(s.stats()->messages == 1);
    CHECK(*s.message(hash(4)));
}

TEST_CASE("store: unsend deletes only the author's own message", "[store][messages]") {
    TempDir dir;
    auto s = open_store(dir.file());
    auto m = incoming(1, kBob, kNow);
    m.attachments = {Attachment{.url = "u", .local_path = "/data/x"}};
    REQUIRE(s.insert_message(m));
    REQUIRE(s.insert_message(incoming(2, kCarol, kNow)));  // same time, another author

    auto by_other = s.apply_unsend(kCarol, kNow + 1);
    REQUIRE(by_other);
    CHECK(by_other->hashes.empty());
    // Carol names Bob's timestamp: only her own message at that time could go.
    auto carol = s.apply_unsend(kCarol, kNow);
    REQUIRE(carol);
    CHECK(carol->hashes == std::vector<std::string>{hash(2)});
    CHECK(*s.message(hash(1)));

    auto bob = s.apply_unsend(kBob, kNow);
    REQUIRE(bob);
    CHECK(bob->hashes == std::vector<std::string>{hash(1)});
    CHECK(bob->attachment_paths == std::vector<std::string>{"/data/x"});
    CHECK_FALSE(*s.message(hash(1)));
    CHECK((*s.conversation(kBob))->unread == 0);
}

TEST_CASE("store: reactions, receipts and delete_message", "[store][messages]") {
    TempDir dir;
    auto s = open_store(dir.file());
    REQUIRE(s.insert_message(incoming(1, kBob, kNow)));
    auto mine = outgoing(kBob, kNow + 5);
    mine.hash = hash(2);
    mine.status = MessageStatus::sent;
    REQUIRE(s.insert_message(mine));

    CHECK(*s.apply_reaction(kBob, kNow, kMe, "👍", true));
    CHECK(*s.apply_reaction(kBob, kNow, kBob, "❤", true));
    CHECK(*s.apply_reaction(kBob, kNow, kMe, "👍", true));  // twice: once
    CHECK_FALSE(*s.apply_reaction(kBob, kNow + 1, kMe, "👍", true));
    auto r = (*s.message(hash(1)))->reactions;
    REQUIRE(r.size() == 2);
    CHECK(r[0] == Reaction{kMe, "👍"});
    CHECK(r[1] == Reaction{kBob, "❤"});
    CHECK(*s.apply_reaction(kBob, kNow, kMe, "👍", false));
    CHECK((*s.message(hash(1)))->reactions.size() == 1);
    CHECK(s.apply_reaction(kBob, kNow, kMe, "", true).error().code == Errc::invalid_argument);

    const std::int64_t ts[] = {kNow + 5, kNow};
    CHECK(*s.apply_receipt(kBob, ts, Receipt::delivered) == 1);  // only our outgoing one
    CHECK((*s.message(hash(2)))->receipt == Receipt::delivered);
    CHECK(*s.apply_receipt(kBob, ts, Receipt::read) == 1);
    CHECK(*s.apply_receipt(kBob, ts, Receipt::delivered) == 0);  // never backwards
    CHECK((*s.message(hash(2)))->receipt == Receipt::read);
    CHECK(*s.apply_receipt(kCarol, ts, Receipt::read) == 0);     // not Carol's conversation

    auto gone = s.delete_message(hash(1));
    REQUIRE(gone);
    CHECK(gone->hashes.size() == 1);
    CHECK(s.delete_message(hash(1))->hashes.empty());
}

TEST_CASE("store: conversations: settings, ordering, approval and deletion", "[store][conversations]") {
    TempDir dir;
    auto s = open_store(dir.file());
    REQUIRE(s.set_display_name(kCarol, "Carol"));
    REQUIRE(s.set_avatar(kCarol, Avatar{"http://avatar", Bytes(32, 1), "/data/avatar"}));
    REQUIRE(s.set_disappearing(kCarol, ExpirationType::delete_after_send, std::chrono::seconds(3600)));
    CHECK(s.set_disappearing(kCarol, ExpirationType::none, std::chrono::seconds(5)).error().code == Errc::invalid_argument);
    auto c = **s.conversation(kCarol);
    CHECK(c.display_name == "Carol");
    REQUIRE(c.avatar);
    CHECK(c.avatar->key == Bytes(32, 1));
    CHECK(c.avatar->local_path == "/data/avatar");
    CHECK(c.expiration_type == ExpirationType::delete_after_send);
    CHECK(c.expiration_timer.count() == 3600);
    CHECK(c.state == ConversationState::request);
    CHECK(c.last_message_ms == 0);
    REQUIRE(s.set_avatar(kCarol, std::nullopt));
    CHECK_FALSE((*s.conversation(kCarol))->avatar);

    REQUIRE(s.insert_message(incoming(1, kBob, kNow)));
    CHECK((*s.conversation(kBob))->state == ConversationState::request);
    auto reply = outgoing(kBob, kNow + 1);
    reply.hash = hash(2);
    reply.status = MessageStatus::sent;
    REQUIRE(s.insert_message(reply));  // answering a request approves it
    CHECK((*s.conversation(kBob))->state == ConversationState::approved);
    REQUIRE(s.set_state(kCarol, ConversationState::approved));

    auto list = s.list_conversations();
    REQUIRE(list);
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].peer == kBob);  // has messages: most recent activity first
    CHECK((*list)[1].peer == kCarol);
    CHECK(s.list_conversations(1)->size() == 1);

    auto removed = s.delete_conversation(kBob);
    REQUIRE(removed);
    CHECK(removed->hashes.size() == 2);
    CHECK_FALSE(*s.conversation(kBob));
    CHECK(s.stats()->messages == 0);
}

// ---- outbox --------------------------------------------------------------------------------------------

namespace {
NewOutboxEntry entry(const SessionId& to, std::uint8_t salt, std::int64_t sent_ms = kNow,
                     std::int64_t ttl_ms = 14LL * 86'400'000) {
    return NewOutboxEntry{.recipient = to, .ns = 0, .data = base64_encode(Bytes(100, salt)), .ttl_ms = ttl_ms,
                          .sent_ms = sent_ms};
}
}  // namespace

TEST_CASE("store: enqueue keys the outbox by the storage hash; the same bytes twice are one entry",
          "[store][outbox]") {
    TempDir dir;
    auto s = open_store(dir.file());
    const auto e = entry(kBob, 1);
    auto q1 = s.enqueue(e, outgoing(kBob, kNow, "queued text"));
    REQUIRE(q1);
    CHECK(q1->inserted);
    CHECK(q1->status == OutboxStatus::queued);
    CHECK(q1->hash == swarm::message_hash(kBob.bytes(), 0, Bytes(100, 1)));

    auto q2 = s.enqueue(e, outgoing(kBob, kNow, "queued text"));
    REQUIRE(q2);
    CHECK_FALSE(q2->inserted);
    CHECK(q2->hash == q1->hash);
    CHECK(s.stats()->outbox_queued == 1);
    CHECK(s.stats()->messages == 1);

    auto m = **s.message(q1->hash);  // the outgoing message, under the same hash
    CHECK(m.status == MessageStatus::queued);
    CHECK(m.outgoing);
    CHECK(m.body == "queued text");
    CHECK((*s.conversation(kBob))->state == ConversationState::approved);

    auto got = **s.outbox_entry(q1->hash);
    CHECK(got.recipient == kBob);
    CHECK(got.data == e.data);
    CHECK(got.ttl_ms == e.ttl_ms);
    CHECK(got.next_attempt_ms == 0);  // due at once
    CHECK(got.attempts == 0);

    // A sync copy (no message row) and the rejections.
    auto copy = s.enqueue(entry(kMe, 2));
    REQUIRE(copy);
    CHECK(copy->inserted);
    CHECK(s.enqueue({.recipient = kBob, .data = "", .ttl_ms = 1, .sent_ms = kNow}).error().code == Errc::invalid_argument);
    CHECK(s.enqueue({.recipient = kBob, .data = "!!", .ttl_ms = 1, .sent_ms = kNow}).error().code == Errc::invalid_argument);
    CHECK(s.enqueue(entry(kBob, 3, kNow, 0)).error().code == Errc::invalid_argument);
    auto not_mine = incoming(5, kBob, kNow);
    CHECK(s.enqueue(entry(kBob, 4), not_mine).error().code == Errc::invalid_argument);
    auto wrong_hash = outgoing(kBob, kNow);
    wrong_hash.hash = hash(6);
    CHECK(s.enqueue(entry(kBob, 4), wrong_hash).error().code == Errc::invalid_argument);
    CHECK(s.stats()->outbox_queued == 2);
}

TEST_CASE("store: take_due leases entries; retry_later backs off; mark_stored and mark_failed finish them",
          "[store][outbox]") {
    TempDir dir;
    StoreOptions o;
    o.retry_min = std::chrono::seconds(1);
    o.retry_max = std::chrono::seconds(10);
    auto s = open_store(dir.file(), o);
    const auto a = s.enqueue(entry(kBob, 1), outgoing(kBob, kNow))->hash;
    const auto b = s.enqueue(entry(kBob, 2, kNow + 1), outgoing(kBob, kNow + 1))->hash;

    // New entries are due at once, even for a clock behind their timestamps (another process's).
    auto due = s.take_due(kNow - 1000, 10, std::chrono::seconds(30));
    REQUIRE(due);
    REQUIRE(due->size() == 2);
    CHECK((*due)[0].hash == a);
    CHECK((*due)[0].attempts == 1);
    CHECK((*due)[0].next_attempt_ms == kNow - 1000 + 30'000);
    CHECK(s.take_due(kNow + 2, 10)->empty());  // leased
    CHECK(s.take_due(kNow - 1000 + 30'000, 1)->size() == 1);  // the lease ran out: due again (max 1)

    // Backoff: 1 s after the first attempt, doubling, capped at 10 s.
    auto t = kNow + 40'000;
    CHECK(**s.retry_later(b, t, "timeout") == t + 1000);
    auto e = **s.outbox_entry(b);
    CHECK(e.last_error == "timeout");
    CHECK(e.status == OutboxStatus::queued);
    for (int i = 0; i < 6; ++i) REQUIRE(s.take_due(t + 100'000 * (i + 1), 10)->size() >= 1);
    CHECK(**s.retry_later(b, t, "timeout") == t + 10'000);

    REQUIRE(*s.mark_stored(a, kNow + 50));
    CHECK((*s.outbox_entry(a))->status == OutboxStatus::stored);
    auto sent = **s.message(a);
    CHECK(sent.status == MessageStatus::sent);
    CHECK(sent.stored_ms == kNow + 50);
    CHECK_FALSE(*s.mark_stored(a, kNow + 60));  // already stored
    CHECK_FALSE(*s.retry_later(a, t, "x"));    // not queued
    // Enqueuing the same bytes after they were stored changes nothing and says so.
    auto again = s.enqueue(entry(kBob, 1));
    CHECK_FALSE(again->inserted);
    CHECK(again->status == OutboxStatus::stored);

    REQUIRE(*s.mark_failed(b, "recipient refused"));
    CHECK((*s.outbox_entry(b))->status == OutboxStatus::failed);
    auto failed = **s.message(b);
    CHECK(failed.status == MessageStatus::failed);
    CHECK(failed.error == "recipient refused");
    CHECK(s.take_due(t + 10'000'000, 10)->empty());
    // The swarm answered after all: a late success is still recorded.
    CHECK(*s.mark_stored(b, kNow + 70));
    CHECK((*s.message(b))->status == MessageStatus::sent);
}

TEST_CASE("store: expire_outbox fails queued entries past their TTL and forgets finished ones", "[store][outbox]") {
    TempDir dir;
    auto s = open_store(dir.file());
    const auto shortlived = s.enqueue(entry(kBob, 1, kNow, 10'000), outgoing(kBob, kNow))->hash;
    const auto stored = s.enqueue(entry(kBob, 2, kNow, 10'000))->hash;
    const auto longlived = s.enqueue(entry(kBob, 3, kNow, 20'000))->hash;
    REQUIRE(*s.mark_stored(stored, kNow));

    CHECK(s.take_due(kNow + 10'000, 10)->size() == 1);  // only the one whose TTL has not passed
    auto expired = s.expire_outbox(kNow + 10'000);
    REQUIRE(expired);
    REQUIRE(expired->size() == 1);
    CHECK((*expired)[0].hash == shortlived);
    CHECK((*expired)[0].status == OutboxStatus::expired);
    CHECK_FALSE(*s.outbox_entry(shortlived));
    CHECK_FALSE(*s.outbox_entry(stored));
    CHECK(*s.outbox_entry(longlived));
    auto m = **s.message(shortlived);
    CHECK(m.status == MessageStatus::failed);
    CHECK(m.error.find("TTL") != std::string::npos);
}

TEST_CASE("store: a process killed mid-send leaves its queued entries for the next one", "[store][outbox][crash]") {
    TempDir dir;
    const auto path = dir.file();
    // The child enqueues three sends, takes one (as if sending it) and dies without closing anything.
    const int status = in_child(
        [&] {
            auto s = Store::open(path, kMe);
            if (!s) return 1;
            for (std::uint8_t i = 1; i <= 3; ++i)
                if (!s->enqueue(entry(kBob, i, kNow + i), outgoing(kBob, kNow + i))) return 2;
            if (!s->take_due(kNow + 1, 1, std::chrono::seconds(60))) return 3;
            ::kill(::getpid(), SIGKILL);
            return 4;
        },
        false);
    CHECK(status == 100 + SIGKILL);

    auto s = open_store(path);
    CHECK(s.stats()->outbox_queued == 3);
    CHECK(s.stats()->messages == 3);
    // Two are due at once; the one in flight when the process died comes back after its lease,
    // with the same bytes (and so the same hash: the swarm keeps one copy).
    auto now = s.take_due(kNow + 10, 10);
    REQUIRE(now);
    CHECK(now->size() == 2);
    auto later = s.take_due(kNow + 1 + 60'000, 10);
    REQUIRE(later);
    REQUIRE(later->size() == 1);
    CHECK(later->front().data == entry(kBob, 1).data);
    CHECK(later->front().attempts == 2);
    // Enqueuing that send again (a caller retrying after the crash) is still one entry.
    CHECK_FALSE(s.enqueue(entry(kBob, 1))->inserted);
}

// ---- receive ledger ------------------------------------------------------------------------------------

TEST_CASE("store: the receive ledger round-trips equal to the JSON backend", "[store][ledger]") {
    TempDir dir;
    auto s = open_store(dir.file());
    auto empty = s.load_receive_state();
    REQUIRE(empty);
    CHECK_FALSE(*empty);

    const auto st = sample_state();
    REQUIRE(s.save_receive_state(st));
    auto back = s.load_receive_state();
    REQUIRE(back);
    REQUIRE(*back);
    // Equal to what the JSON file gives back: the same text when dumped.
    const auto json_back = detail::parse_receive_state(detail::dump_receive_state(st), "x");
    REQUIRE(json_back);
    CHECK(detail::dump_receive_state(**back) == detail::dump_receive_state(*json_back));
    CHECK(detail::dump_receive_state(**back) == detail::dump_receive_state(st));

    // Saving again replaces everything.
    auto smaller = st;
    smaller.delivered.resize(1);
    smaller.cursors.resize(1);
    REQUIRE(s.save_receive_state(smaller));
    CHECK(detail::dump_receive_state(**s.load_receive_state()) == detail::dump_receive_state(smaller));

    auto other = st;
    other.account = kBob.hex();
    CHECK(s.save_receive_state(other).error().code == Errc::invalid_argument);
    auto bad = st;
    bad.delivered[0].hash = "nope";
    CHECK(s.save_receive_state(bad).error().code == Errc::invalid_argument);
    auto disordered = st;  // what the JSON parser refuses, the store refuses too
    std::swap(disordered.delivered[0].seq, disordered.delivered[1].seq);
    CHECK(s.save_receive_state(disordered).error().message.find("out of order") != std::string::npos);
    CHECK_FALSE(detail::parse_receive_state(detail::dump_receive_state(disordered), "x"));
    CHECK(detail::dump_receive_state(**s.load_receive_state()) == detail::dump_receive_state(smaller));
}

TEST_CASE("store: incremental ledger updates give the state the Client would save", "[store][ledger]") {
    TempDir dir;
    auto s = open_store(dir.file());
    // The same operations on an in-memory ReceiveState (what the Client keeps) and on the store.
    detail::ReceiveState mem;
    mem.account = kMe.hex();
    Ed25519PublicKey n1, n2;
    n1.bytes.fill(0x11);
    n2.bytes.fill(0x22);
    using Nodes = retrieve::NodeCursor;

    LedgerPage p1{.delivered = {{hash(1), 1, kNow + 10}, {hash(2), 2, kNow + 20}}, .next_seq = 3,
                  .cursor = LedgerCursor{hash(2), "", Nodes{{{n1, hash(2)}}}}, .latest = hash(2), .max_cursors = 2};
    REQUIRE(s.record_receive_page(p1));
    mem.delivered = {{hash(1), 1, kNow + 10}, {hash(2), 2, kNow + 20}};
    mem.next_seq = 3;
    mem.cursors = {{hash(2), "", Nodes{{{n1, hash(2)}}}}};
    mem.latest = hash(2);
    CHECK(detail::dump_receive_state(**s.load_receive_state()) == detail::dump_receive_state(mem));

    // A second page: one more hash; its cursor; then the first cursor updated in place (keeps its age).
    LedgerPage p2{.delivered = {{hash(3), 3, kNow + 30}}, .next_seq = 4,
                  .cursor = LedgerCursor{hash(3), hash(2), Nodes{{{n1, hash(3)}, {n2, hash(3)}}}}, .latest = hash(3),
                  .max_cursors = 2};
    REQUIRE(s.record_receive_page(p2));
    REQUIRE(s.put_cursor(LedgerCursor{hash(2), "", Nodes{{{n2, hash(1)}}}}, 2));
    mem.delivered.push_back({hash(3), 3, kNow + 30});
    mem.next_seq = 4;
    mem.cursors = {{hash(2), "", Nodes{{{n2, hash(1)}}}}, {hash(3), hash(2), Nodes{{{n1, hash(3)}, {n2, hash(3)}}}}};
    mem.latest = hash(3);
    CHECK(detail::dump_receive_state(**s.load_receive_state()) == detail::dump_receive_state(mem));

    // A third cursor with max 2 drops the oldest; a page without latest keeps the latest.
    REQUIRE(s.record_receive_page({.delivered = {}, .next_seq = 4, .cursor = LedgerCursor{hash(4), "", Nodes{}},
                                   .latest = "", .max_cursors = 2}));
    mem.cursors.erase(mem.cursors.begin());
    mem.cursors.push_back({hash(4), "", {}});
    CHECK(detail::dump_receive_state(**s.load_receive_state()) == detail::dump_receive_state(mem));

    // Pruning forgets hashes that expired before the cutoff.
    CHECK(*s.prune_ledger(kNow + 20) == 1);
    mem.delivered.erase(mem.delivered.begin());
    CHECK(detail::dump_receive_state(**s.load_receive_state()) == detail::dump_receive_state(mem));

    CHECK(s.record_receive_page({.delivered = {{"short", 9, 0}}, .next_seq = 10}).error().code == Errc::invalid_argument);
    CHECK(s.record_receive_page({.delivered = {{hash(9), 10, 0}}, .next_seq = 10}).error().code == Errc::invalid_argument);
    CHECK(s.put_cursor(LedgerCursor{hash(5), "", Nodes{{{n1, "not a hash"}}}}, 2).error().code == Errc::invalid_argument);
    CHECK(detail::dump_receive_state(**s.load_receive_state()) == detail::dump_receive_state(mem));
}

TEST_CASE("store: a JSON state file is imported once and renamed aside", "[store][ledger][migration]") {
    TempDir dir;
    auto s = open_store(dir.file());
    const auto json = dir.file("client.state");
    CHECK(*s.import_receive_state(json) == LedgerImport::no_file);

    const auto st = sample_state();
    REQUIRE(detail::save_receive_state(json, st));
    auto r = s.import_receive_state(json);
    REQUIRE(r);
    CHECK(*r == LedgerImport::imported);
    CHECK_FALSE(fs::exists(json));
    CHECK(fs::exists(json + ".imported"));
    CHECK(detail::dump_receive_state(**s.load_receive_state()) == detail::dump_receive_state(st));

    // A file that shows up again (an old binary ran) does not overwrite the store's ledger.
    auto older = st;
    older.delivered.resize(1);
    REQUIRE(detail::save_receive_state(json, older));
    CHECK(*s.import_receive_state(json) == LedgerImport::kept_store);
    CHECK_FALSE(fs::exists(json));
    CHECK(detail::dump_receive_state(**s.load_receive_state()) == detail::dump_receive_state(st));

    // Another account's file, or a corrupt one, is an error and stays where it is.
    auto theirs = st;
    theirs.account = kBob.hex();
    REQUIRE(detail::save_receive_state(json, theirs));
    TempDir dir2;
    auto fresh = open_store(dir2.file());
    CHECK(fresh.import_receive_state(json).error().code == Errc::invalid_argument);
    CHECK(fs::exists(json));
    std::ofstream(json, std::ios::trunc) << "{not json";
    CHECK(fresh.import_receive_state(json).error().code == Errc::invalid_argument);
    CHECK_FALSE(*fresh.load_receive_state());
}

// ---- events --------------------------------------------------------------------------------------------

TEST_CASE("store: events replay from a sequence number, are acknowledged per subscriber and pruned",
          "[store][events]") {
    TempDir dir;
    const auto path = dir.file();
    {
        auto s = open_store(path);
        CHECK(*s.last_event_seq() == 0);
        for (int i = 1; i <= 5; ++i) {
            auto seq = s.append_event("message", R"({"n":)" + std::to_string(i) + "}", kNow + i);
            REQUIRE(seq);
            CHECK(*seq == static_cast<std::uint64_t>(i));
        }
        auto all = s.events_after(0, 100);
        REQUIRE(all);
        REQUIRE(all->size() == 5);
        CHECK((*all)[0].type == "message");
        CHECK((*all)[0].payload == R"({"n":1})");
        CHECK((*all)[4].time_ms == kNow + 5);
        auto tail = s.events_after(3, 100);
        REQUIRE(tail->size() == 2);
        CHECK(tail->front().seq == 4);
        CHECK(s.events_after(0, 2)->size() == 2);

        REQUIRE(s.ack_events("bot", 3));
        REQUIRE(s.ack_events("ui", 1));
        REQUIRE(s.ack_events("bot", 2));  // never moves back
        CHECK(**s.acked_seq("bot") == 3);
        CHECK_FALSE(*s.acked_seq("nobody"));
        CHECK(s.ack_events("bot", 6).error().code == Errc::invalid_argument);
        CHECK(s.ack_events("", 1).error().code == Errc::invalid_argument);
        CHECK(*s.prune_events(kNow, std::chrono::hours(1)) == 1);  // only seq 1: everyone has it
        CHECK(s.events_after(0, 100)->front().seq == 2);
    }
    // Across a restart: the log, the acknowledgements and the numbering are kept.
    auto s = open_store(path);
    CHECK(s.events_after(0, 100)->size() == 4);
    CHECK(**s.acked_seq("ui") == 1);
    REQUIRE(s.remove_subscriber("ui"));
    CHECK(*s.prune_events(kNow, std::chrono::hours(1)) == 2);  // now bot's 3 is everyone's
    // The retention window drops what nobody acknowledged.
    CHECK(*s.prune_events(kNow + 5 + 3'600'000 + 1, std::chrono::hours(1)) == 2);
    CHECK(s.events_after(0, 100)->empty());
    CHECK(*s.last_event_seq() == 5);
    CHECK(*s.append_event("sendStatus", "{}", kNow) == 6);  // never reused after pruning

    CHECK(s.append_event("", "{}", kNow).error().code == Errc::invalid_argument);
    CHECK(s.append_event("x", "{not json", kNow).error().code == Errc::invalid_argument);
    CHECK(s.append_event("x", std::string(kMaxEventPayloadBytes + 1, ' '), kNow).error().code == Errc::invalid_argument);
}

TEST_CASE("store: with no subscriber, events are kept until the retention window", "[store][events]") {
    TempDir dir;
    auto s = open_store(dir.file());
    REQUIRE(s.append_event("message", "{}", kNow));
    CHECK(*s.prune_events(kNow, std::chrono::hours(1)) == 0);
    CHECK(*s.prune_events(kNow + 3'600'001, std::chrono::hours(1)) == 1);
}

// ---- transactions, concurrency, failures ---------------------------------------------------------------

TEST_CASE("store: transaction commits every call together or none of them", "[store][transaction]") {
    TempDir dir;
    auto s = open_store(dir.file());
    auto ok = s.transaction([&]() -> Result<void> {
        if (auto r = s.insert_message(incoming(1, kBob, kNow)); !r) return unexpected(r.error());
        if (auto r = s.append_event("message", "{}", kNow); !r) return unexpected(r.error());
        return {};
    });
    REQUIRE(ok);
    CHECK(s.stats()->messages == 1);
    CHECK(*s.last_event_seq() == 1);

    // A failing call inside rolls back only itself; the function decides what happens to the rest.
    REQUIRE(s.transaction([&]() -> Result<void> {
        REQUIRE(s.insert_message(incoming(2, kBob, kNow)));
        auto bad = s.ack_events("x", 99);  // fails inside its own savepoint
        CHECK_FALSE(bad);
        return {};
    }));
    CHECK(*s.message(hash(2)));
    CHECK_FALSE(*s.acked_seq("x"));

    // An error returned from the function rolls back everything it did.
    auto failed = s.transaction([&]() -> Result<void> {
        REQUIRE(s.insert_message(incoming(3, kBob, kNow)));
        REQUIRE(s.append_event("message", "{}", kNow));
        return unexpected(Errc::invalid_argument, "changed my mind");
    });
    REQUIRE_FALSE(failed);
    CHECK(failed.error().message == "changed my mind");
    CHECK(s.stats()->messages == 2);
    CHECK_FALSE(*s.message(hash(3)));
    CHECK(*s.last_event_seq() == 1);

    CHECK_THROWS_AS(s.transaction([&]() -> Result<void> {
        REQUIRE(s.insert_message(incoming(4, kBob, kNow)));
        throw std::runtime_error("boom");
    }),
                    std::runtime_error);
    CHECK_FALSE(*s.message(hash(4)));
    // Nested transactions are savepoints of the outer one.
    REQUIRE(s.transaction([&]() -> Result<void> {
        auto inner = s.transaction([&]() -> Result<void> {
            REQUIRE(s.insert_message(incoming(5, kBob, kNow)));
            return unexpected(Errc::invalid_argument, "inner only");
        });
        CHECK_FALSE(inner);
        return s.insert_message(incoming(6, kBob, kNow)) ? Result<void>{} : unexpected(Errc::io_error, "?");
    }));
    CHECK_FALSE(*s.message(hash(5)));
    CHECK(*s.message(hash(6)));
}

TEST_CASE("store: one Store is used from several threads at once", "[store][threads]") {
    TempDir dir;
    auto s = open_store(dir.file());
    constexpr int kThreads = 4, kEach = 50;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                const auto n = static_cast<std::uint64_t>(t * 1000 + i);
                if (!s.insert_message(incoming(n, t % 2 ? kBob : kCarol, kNow + i))) ++failures;
                if (!s.append_event("message", "{}", kNow)) ++failures;
                if (!s.list_messages(kBob, {.limit = 5})) ++failures;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(s.stats()->messages == kThreads * kEach);
    CHECK(*s.last_event_seq() == kThreads * kEach);
}

TEST_CASE("store: a full store (size limit) fails with store_full and keeps every committed message",
          "[store][reject][full]") {
    TempDir dir;
    const auto path = dir.file();
    std::size_t committed = 0;
    Error full{};
    {
        StoreOptions o;
        o.max_size_bytes = 256 * 1024;
        auto s = open_store(path, o);
        for (std::uint64_t i = 0; i < 1000; ++i) {
            auto r = s.insert_message(incoming(i, kBob, kNow + static_cast<std::int64_t>(i), std::string(2000, 'x')));
            if (!r) {
                full = r.error();
                break;
            }
            ++committed;
        }
        REQUIRE(committed > 10);
        REQUIRE(committed < 1000);
        CHECK(full.code == Errc::store_full);
        CHECK(full.message.find(path) != std::string::npos);
        CHECK(full.message.find("xxxx") == std::string::npos);  // never the content
        // Still usable for reads, and the failed message left nothing behind.
        CHECK(s.stats()->messages == committed);
        CHECK_FALSE(*s.message(hash(committed)));
        // A failure inside a transaction rolls the whole transaction back.
        auto t = s.transaction([&]() -> Result<void> {
            if (auto r = s.append_event("message", "{}", kNow); !r) return unexpected(r.error());
            auto big = s.insert_message(incoming(5000, kBob, kNow, std::string(300'000, 'y')));
            if (!big) return unexpected(big.error());
            return {};
        });
        REQUIRE_FALSE(t);
        CHECK(t.error().code == Errc::store_full);
    }
    auto s = open_store(path);  // no limit now
    CHECK(s.stats()->messages == committed);
    CHECK(*s.last_event_seq() == 0);
    auto list = s.list_messages(kBob, {.limit = kMaxPageSize});
    REQUIRE(list);
    CHECK(list->messages.size() == committed);
    CHECK(s.insert_message(incoming(committed, kBob, kNow, std::string(2000, 'x'))));
}

TEST_CASE("store: a read-only directory gives store_read_only and loses nothing", "[store][reject][readonly]") {
    TempDir dir;
    const auto path = dir.file();
    {
        auto s = open_store(path);
        REQUIRE(s.insert_message(incoming(1, kBob, kNow, "kept")));
        REQUIRE(s.enqueue(entry(kBob, 1), outgoing(kBob, kNow)));
    }
    // As root, permissions do not apply: the child drops to nobody, who owns the files but may
    // not write the directory.
    if (::geteuid() == 0) {
        for (const auto& p : fs::directory_iterator(dir.path)) REQUIRE(::chown(p.path().c_str(), 65534, 65534) == 0);
        REQUIRE(::chown(dir.path.c_str(), 65534, 65534) == 0);
    }
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    const int status = in_child(
        [&] {
            auto s = Store::open(path, kMe);
            if (s) return 1;
            if (s.error().code != Errc::store_read_only) return 2;
            if (s.error().message.find(path) == std::string::npos) return 3;
            return 0;
        },
        true);
    CHECK(status == 0);
    fs::permissions(dir.path, fs::perms::owner_all);
    if (::geteuid() == 0) {
        for (const auto& p : fs::directory_iterator(dir.path)) REQUIRE(::chown(p.path().c_str(), 0, 0) == 0);
    }
    auto s = open_store(path);
    CHECK((*s.message(hash(1)))->body == "kept");
    CHECK(s.stats()->outbox_queued == 1);
}

TEST_CASE("store: a Store used after move throws", "[store]") {
    TempDir dir;
    auto s = open_store(dir.file());
    Store moved = std::move(s);
    CHECK_THROWS_AS(s.stats(), std::logic_error);  // NOLINT(bugprone-use-after-move)
    CHECK(moved.stats());
}

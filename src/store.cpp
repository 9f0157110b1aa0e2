// store.cpp: the local store on SQLite. Every SQL statement of the library is in this file.
#include "session/store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "detail/receive_state.hpp"
#include "session/retrieve.hpp"
#include "session/swarm.hpp"

namespace session::store {

namespace {

// PRAGMA application_id of a session-client store ("SESN"), so another program's SQLite file is
// recognised as such instead of being migrated.
constexpr std::int32_t kApplicationId = 0x5345534E;

// The schema, one migration per version: kMigrations[v - 1] takes a file from v - 1 to v. Each runs
// in one transaction with its PRAGMA user_version, so a crash leaves a file at one version or the
// next. Never edit a released migration: add one.
//
// Enumerations are stored as their to_string() names (stable on disk, readable with sqlite3).
constexpr const char* kMigrations[] = {
    // 1: history, conversations, outbox, receive ledger.
    R"sql(
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
)sql",
    // 2: durable events for the daemon. AUTOINCREMENT: a sequence number is never reused, even
    // after every event was pruned.
    R"sql(
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, payload TEXT NOT NULL,
                     time_ms INTEGER NOT NULL);
CREATE INDEX events_time ON events(time_ms);
CREATE TABLE event_acks (subscriber TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion, "one migration per schema version");

template <auto Free>
struct Deleter {
    void operator()(auto* p) const noexcept { Free(p); }
};
using Db = std::unique_ptr<sqlite3, Deleter<sqlite3_close_v2>>;
using Statement = std::unique_ptr<sqlite3_stmt, Deleter<sqlite3_finalize>>;

// A file descriptor with one owner.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void reset() {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }

private:
    int fd_ = -1;
};

// Internal failures travel as this exception inside the file and leave it as Result errors (see
// Store::Impl::read / write): no exception of this type escapes a public call.
struct Failure {
    Error error;
};

[[noreturn]] void fail(Errc code, std::string message) { throw Failure{Error{code, std::move(message)}}; }

// The Errc for a failed file operation, from errno.
Errc errc_of_errno(int e) {
    switch (e) {
        case EACCES:
        case EPERM:
        case EROFS: return Errc::store_read_only;
        case ENOSPC:
        case EDQUOT:
        case EFBIG: return Errc::store_full;  // the file may not grow (RLIMIT_FSIZE, the file system's limit)
        default: return Errc::io_error;
    }
}

std::string hex_prefix(const SessionId& id) { return id.hex().substr(0, 10) + "…"; }

// ---- enumerations on disk ------------------------------------------------------------------------

template <class E, std::size_t N>
E parse_enum(std::string_view text, const E (&all)[N], const char* what) {
    for (E e : all)
        if (to_string(e) == text) return e;
    fail(Errc::store_corrupt, std::string("store: ") + what + ": unknown value '" + std::string(text.substr(0, 20)) + "'");
}
constexpr ExpirationType kAllExpiration[] = {ExpirationType::none, ExpirationType::delete_after_read,
                                             ExpirationType::delete_after_send};
constexpr MessageKind kAllKinds[] = {MessageKind::text, MessageKind::expiration_timer_update, MessageKind::reaction,
                                     MessageKind::sync, MessageKind::receipt, MessageKind::typing,
                                     MessageKind::unsend, MessageKind::data_extraction,
                                     MessageKind::message_request_response, MessageKind::call, MessageKind::other};
constexpr MessageStatus kAllStatus[] = {MessageStatus::queued, MessageStatus::sent, MessageStatus::failed,
                                        MessageStatus::received, MessageStatus::read};
constexpr Receipt kAllReceipt[] = {Receipt::none, Receipt::delivered, Receipt::read};
constexpr ConversationState kAllStates[] = {ConversationState::request, ConversationState::approved};
constexpr OutboxStatus kAllOutbox[] = {OutboxStatus::queued, OutboxStatus::stored, OutboxStatus::failed,
                                       OutboxStatus::expired};

int receipt_rank(Receipt r) { return static_cast<int>(r); }  // none < delivered < read

std::int64_t to_i64(std::uint64_t v, const char* what) {
    if (v > static_cast<std::uint64_t>(INT64_MAX))
        fail(Errc::invalid_argument, std::string("store: ") + what + ": expected at most 2^63-1");
    return static_cast<std::int64_t>(v);
}

bool is_hex64(std::string_view s) {
    return s.size() == 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void need_hash(std::string_view h, const std::string& what) {
    if (!retrieve::is_message_hash(h))
        fail(Errc::invalid_argument, "store: " + what + ": expected 43 base64 characters, got " +
                                         std::to_string(h.size()) + " characters");
}

}  // namespace

std::string_view to_string(MessageStatus s) {
    switch (s) {
        case MessageStatus::queued: return "queued";
        case MessageStatus::sent: return "sent";
        case MessageStatus::failed: return "failed";
        case MessageStatus::received: return "received";
        case MessageStatus::read: return "read";
    }
    return "received";
}
std::string_view to_string(Receipt r) {
    switch (r) {
        case Receipt::none: return "none";
        case Receipt::delivered: return "delivered";
        case Receipt::read: return "read";
    }
    return "none";
}
std::string_view to_string(ConversationState s) {
    switch (s) {
        case ConversationState::request: return "request";
        case ConversationState::approved: return "approved";
    }
    return "request";
}
bool is_store_failure(Errc code) noexcept {
    switch (code) {
        case Errc::store_full:
        case Errc::store_read_only:
        case Errc::store_busy:
        case Errc::store_corrupt:
        case Errc::store_too_new:
        case Errc::io_error: return true;
        default: return false;
    }
}

std::string_view to_string(OutboxStatus s) {
    switch (s) {
        case OutboxStatus::queued: return "queued";
        case OutboxStatus::stored: return "stored";
        case OutboxStatus::failed: return "failed";
        case OutboxStatus::expired: return "expired";
    }
    return "queued";
}

std::string MessageCursor::token() const { return std::to_string(sent_ms) + "." + std::to_string(row_id); }

Result<MessageCursor> MessageCursor::parse(std::string_view token) {
    auto bad = [&] {
        return unexpected(Errc::invalid_argument,
                          "store: cursor: expected \"<sent_ms>.<row>\" (two decimal numbers), got " +
                              std::to_string(token.size()) + " characters");
    };
    const auto dot = token.find('.');
    if (dot == std::string_view::npos) return bad();
    MessageCursor c;
    const auto a = token.substr(0, dot), b = token.substr(dot + 1);
    auto ra = std::from_chars(a.data(), a.data() + a.size(), c.sent_ms);
    auto rb = std::from_chars(b.data(), b.data() + b.size(), c.row_id);
    if (a.empty() || b.empty() || ra.ec != std::errc() || ra.ptr != a.data() + a.size() || rb.ec != std::errc() ||
        rb.ptr != b.data() + b.size())
        return bad();
    return c;
}

// ---- the connection --------------------------------------------------------------------------------

struct Store::Impl {
    std::string path;
    SessionId account;
    std::string account_hex;
    StoreOptions options;
    // Declaration order is destruction order reversed: statements, then the connection, then the
    // lock (released only once SQLite let go of the file).
    Fd lock;
    Db db;
    std::map<const char*, Statement> statements;  // prepared once per SQL text (keyed by its literal)
    std::recursive_mutex mu;
    int depth = 0;  // open write scopes (transaction() and the calls inside it), on the owning thread

    Impl(std::string p, const SessionId& a, const StoreOptions& o)
            : path(std::move(p)), account(a), account_hex(a.hex()), options(o) {}

    [[noreturn]] void sql_fail(int rc, std::string_view what) const {
        // Read first: the failed call's errno. SQLite does not always record it for
        // sqlite3_system_errno (a write refused with EFBIG left it 0), so a failed write that the
        // system refused for want of space is recognised from errno too.
        const int last_errno = errno;
        int sys = db ? sqlite3_system_errno(db.get()) : 0;
        if (sys == 0 && (rc & 0xff) == SQLITE_IOERR && errc_of_errno(last_errno) == Errc::store_full) sys = last_errno;
        std::string reason = db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc);
        Errc code = Errc::io_error;
        switch (rc & 0xff) {
            case SQLITE_FULL: code = Errc::store_full; break;
            case SQLITE_READONLY:
            case SQLITE_PERM: code = Errc::store_read_only; break;
            case SQLITE_NOTADB:
            case SQLITE_CORRUPT: code = Errc::store_corrupt; break;
            case SQLITE_BUSY:
            case SQLITE_LOCKED: code = Errc::store_busy; break;
            case SQLITE_IOERR:
            case SQLITE_CANTOPEN: code = errc_of_errno(sys); break;
            default: break;
        }
        if (sys != 0 && ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN))
            reason += " (" + std::string(std::strerror(sys)) + ")";
        if (code == Errc::store_full)
            reason += ": the store is full (no space left on the disk, a file size or quota limit, or "
                      "StoreOptions::max_size_bytes): nothing of this change was written";
        fail(code, "store: " + path + ": " + std::string(what) + ": " + reason);
    }

    void exec(const char* sql, std::string_view what) {
        if (int rc = sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr); rc != SQLITE_OK) sql_fail(rc, what);
    }

    // A cached statement in use: bound on creation, reset (and its bindings cleared) on destruction,
    // so no statement keeps a read transaction open between calls.
    class Query {
    public:
        Query(Impl& im, sqlite3_stmt* s) : im_(im), s_(s) {}
        Query(const Query&) = delete;
        Query& operator=(const Query&) = delete;
        ~Query() {
            sqlite3_reset(s_);
            sqlite3_clear_bindings(s_);
        }
        template <class... A>
        Query& bind(const A&... args) {
            int i = 0;
            (bind_one(++i, args), ...);
            return *this;
        }
        // Next row: true, or false when done.
        bool step() {
            const int rc = sqlite3_step(s_);
            if (rc == SQLITE_ROW) return true;
            if (rc == SQLITE_DONE) return false;
            im_.sql_fail(rc, "cannot " + what());
        }
        void run() {
            while (step()) {
            }
        }
        std::int64_t changes() const { return sqlite3_changes64(im_.db.get()); }
        bool null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
        std::int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
        std::string text(int c) const {
            const auto* p = sqlite3_column_text(s_, c);
            return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, c)))
                     : std::string();
        }
        Bytes blob(int c) const {
            const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, c));
            return p ? Bytes(p, p + sqlite3_column_bytes(s_, c)) : Bytes();
        }
        std::optional<std::int64_t> opt_i64(int c) const {
            return null(c) ? std::nullopt : std::optional<std::int64_t>(i64(c));
        }
        SessionId id(int c) const {
            auto parsed = SessionId::parse(text(c));
            if (!parsed) fail(Errc::store_corrupt, "store: " + im_.path + ": a stored Session ID does not parse");
            return *parsed;
        }

    private:
        // What the statement does, for errors: its first words ("INSERT INTO messages").
        std::string what() const {
            std::string_view sql = sqlite3_sql(s_);
            while (!sql.empty() && (sql.front() == ' ' || sql.front() == '\n')) sql.remove_prefix(1);
            std::size_t end = 0;
            for (int words = 0; end < sql.size() && words < 3; ++words) {
                end = sql.find(' ', end + 1);
                if (end == std::string_view::npos) end = sql.size();
            }
            return "run " + std::string(sql.substr(0, end));
        }
        void check(int rc) {
            if (rc != SQLITE_OK) im_.sql_fail(rc, "cannot bind a value");
        }
        void bind_one(int i, std::int64_t v) { check(sqlite3_bind_int64(s_, i, v)); }
        void bind_one(int i, int v) { check(sqlite3_bind_int64(s_, i, v)); }
        void bind_one(int i, std::uint32_t v) { check(sqlite3_bind_int64(s_, i, v)); }
        void bind_one(int i, std::int16_t v) { check(sqlite3_bind_int64(s_, i, v)); }
        void bind_one(int i, std::string_view v) {
            check(sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
        }
        void bind_one(int i, const std::string& v) { bind_one(i, std::string_view(v)); }
        void bind_one(int i, const char* v) { bind_one(i, std::string_view(v)); }
        void bind_one(int i, const Bytes& v) {
            // A zero-length blob, not NULL: sqlite3_bind_blob64 with a null pointer binds NULL.
            static const std::uint8_t empty = 0;
            check(sqlite3_bind_blob64(s_, i, v.empty() ? &empty : v.data(), v.size(), SQLITE_TRANSIENT));
        }
        void bind_one(int i, std::nullopt_t) { check(sqlite3_bind_null(s_, i)); }
        template <class T>
        void bind_one(int i, const std::optional<T>& v) {
            if (v) bind_one(i, *v);
            else check(sqlite3_bind_null(s_, i));
        }
        Impl& im_;
        sqlite3_stmt* s_;
    };

    Query q(const char* sql) {
        auto it = statements.find(sql);
        if (it == statements.end()) {
            sqlite3_stmt* s = nullptr;
            const int rc = sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
            Statement owned(s);
            if (rc != SQLITE_OK) sql_fail(rc, "cannot prepare a statement");
            it = statements.emplace(sql, std::move(owned)).first;
        }
        return Query(*this, it->second.get());
    }

    // A read: under the lock; internal failures become the returned error.
    template <class F>
    auto read(F&& f) -> Result<decltype(f())> {
        std::lock_guard guard(mu);
        try {
            if constexpr (std::is_void_v<decltype(f())>) {
                f();
                return {};
            } else {
                return f();
            }
        } catch (Failure& e) {
            return unexpected(std::move(e.error));
        }
    }

    // A change: under the lock, in a transaction of its own (or a savepoint inside transaction()).
    // Committed before returning; rolled back on any failure (exceptions other than Failure are
    // rethrown after the rollback).
    template <class F>
    auto write(F&& f) -> Result<decltype(f())> {
        std::lock_guard guard(mu);
        using T = decltype(f());
        const bool nested = depth > 0;
        try {
            if (nested && sqlite3_get_autocommit(db.get()))
                fail(Errc::io_error, "store: " + path +
                                         ": the transaction was already rolled back by an earlier error; nothing "
                                         "more is written in it");
            exec(nested ? "SAVEPOINT s" : "BEGIN IMMEDIATE", "cannot begin a transaction");
        } catch (Failure& e) {
            return unexpected(std::move(e.error));
        }
        ++depth;
        auto undo = [&] {
            --depth;
            if (sqlite3_get_autocommit(db.get())) return;  // SQLite already rolled it all back
            if (nested) {
                sqlite3_exec(db.get(), "ROLLBACK TO s; RELEASE s", nullptr, nullptr, nullptr);
            } else {
                sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
            }
        };
        try {
            std::optional<std::conditional_t<std::is_void_v<T>, int, T>> value;
            if constexpr (std::is_void_v<T>) {
                f();
                value.emplace(0);
            } else {
                value.emplace(f());
            }
            if (sqlite3_get_autocommit(db.get()))
                fail(Errc::io_error, "store: " + path + ": the transaction was rolled back by an earlier error");
            exec(nested ? "RELEASE s" : "COMMIT", "cannot commit");
            --depth;
            if constexpr (std::is_void_v<T>) return {};
            else return std::move(*value);
        } catch (Failure& e) {
            undo();
            return unexpected(std::move(e.error));
        } catch (...) {
            undo();
            throw;
        }
    }

    // ---- opening ----

    [[noreturn]] void file_fail(const std::string& file, std::string_view what) const {
        const int e = errno;
        if (e == ELOOP) fail(Errc::invalid_argument, "store: " + file + ": is a symbolic link; refusing to follow it");
        fail(errc_of_errno(e), "store: " + file + ": cannot " + std::string(what) + ": " + std::strerror(e));
    }

    // Creates (or opens) `file` as a regular file of mode 0600 without following a symbolic link,
    // tightening a wider mode. Returns the descriptor.
    Fd create_private(const std::string& file) const {
        Fd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd) file_fail(file, "open or create");
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) file_fail(file, "stat");
        if (!S_ISREG(st.st_mode)) fail(Errc::invalid_argument, "store: " + file + ": not a regular file");
        if ((st.st_mode & 0777) != 0600 && ::fchmod(fd.get(), 0600) != 0) file_fail(file, "set mode 0600 on");
        return fd;
    }

    void open_files() {
        // The lock first: a second Store on this file stops here, before touching the database
        // (closing a descriptor of a file SQLite has locked would drop SQLite's POSIX locks).
        const std::string lock_path = path + ".lock";
        lock = create_private(lock_path);
        if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK)
                fail(Errc::store_busy, "store: " + path + ": in use by another Store (" + lock_path + " is locked)");
            file_fail(lock_path, "lock");
        }
        // The database and its WAL files exist, as regular files of mode 0600, before SQLite opens
        // them (SQLite gives -wal and -shm the database's mode; creating them here also refuses a
        // symbolic link planted in their place). A rollback journal is only checked.
        create_private(path);
        create_private(path + "-wal");
        create_private(path + "-shm");
        struct stat st {};
        if (::lstat((path + "-journal").c_str(), &st) == 0 && !S_ISREG(st.st_mode))
            fail(Errc::invalid_argument, "store: " + path + "-journal: not a regular file; refusing to use it");

        sqlite3* raw = nullptr;
        int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
#ifdef SQLITE_OPEN_EXRESCODE
        flags |= SQLITE_OPEN_EXRESCODE;
#endif
        const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
        db.reset(raw);  // owned even when opening failed
        if (rc != SQLITE_OK) sql_fail(rc, "cannot open");
        sqlite3_extended_result_codes(db.get(), 1);
        sqlite3_busy_timeout(db.get(), static_cast<int>(std::clamp<std::int64_t>(options.busy_timeout.count(), 0, INT_MAX)));
    }

    std::int64_t pragma_int(const char* sql, std::string_view what) {
        auto r = q(sql);
        if (!r.step()) fail(Errc::io_error, "store: " + path + ": " + std::string(what) + ": no answer");
        return r.i64(0);
    }

    void configure() {
        // The first read of the file: a file that is not SQLite fails here (SQLITE_NOTADB).
        std::int64_t app = 0, version = 0, tables = 0;
        try {
            app = pragma_int("PRAGMA application_id", "read the application id");
            version = pragma_int("PRAGMA user_version", "read the schema version");
            tables = pragma_int("SELECT count(*) FROM sqlite_master", "read the schema");
        } catch (Failure& e) {
            if (e.error.code == Errc::store_corrupt)
                fail(Errc::store_corrupt,
                     "store: " + path + ": not a session-client store: not an SQLite database, or damaged");
            throw;
        }
        if (app != kApplicationId && (app != 0 || tables != 0))
            fail(Errc::store_corrupt, "store: " + path + ": not a session-client store: another program's database (" +
                                          (app != 0 ? "application_id " + std::to_string(app)
                                                    : std::to_string(tables) + " tables, no session-client id") +
                                          ")");
        if (version > kSchemaVersion)
            fail(Errc::store_too_new, "store: " + path + ": schema version " + std::to_string(version) +
                                          " was written by a newer session-client; this one knows up to " +
                                          std::to_string(kSchemaVersion));

        {
            auto r = q("PRAGMA journal_mode = WAL");
            if (!r.step() || r.text(0) != "wal")
                fail(Errc::io_error, "store: " + path + ": cannot switch to WAL journal mode");
        }
        exec(options.sync_every_commit ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
             "cannot set synchronous");
        exec("PRAGMA foreign_keys = ON", "cannot enable foreign keys");
        // Deleted messages (unsend, disappearing) are overwritten, not left in free pages.
        exec("PRAGMA secure_delete = ON", "cannot enable secure_delete");
        if (options.max_size_bytes > 0) {
            const auto page = static_cast<std::uint64_t>(pragma_int("PRAGMA page_size", "read the page size"));
            const auto pages = std::max<std::uint64_t>(1, options.max_size_bytes / std::max<std::uint64_t>(page, 1));
            const std::string sql = "PRAGMA max_page_count = " + std::to_string(std::min<std::uint64_t>(pages, UINT32_MAX));
            exec(sql.c_str(), "cannot set the size limit");
        }

        for (auto v = version + 1; v <= kSchemaVersion; ++v) {
            exec("BEGIN IMMEDIATE", "cannot begin the migration");
            try {
                exec(kMigrations[v - 1], "cannot migrate to schema version " + std::to_string(v));
                const std::string set = "PRAGMA user_version = " + std::to_string(v) +
                                        "; PRAGMA application_id = " + std::to_string(kApplicationId);
                exec(set.c_str(), "cannot record the schema version");
                exec("COMMIT", "cannot commit the migration");
            } catch (Failure&) {
                if (!sqlite3_get_autocommit(db.get())) sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
                throw;
            }
        }

        // The account this file belongs to, recorded by the first open.
        exec("BEGIN IMMEDIATE", "cannot begin a transaction");
        try {
            q("INSERT INTO meta(key, value) VALUES ('account', ?) ON CONFLICT(key) DO NOTHING").bind(account_hex).run();
            auto r = q("SELECT value FROM meta WHERE key = 'account'");
            const std::string owner = r.step() ? r.text(0) : std::string();
            if (owner != account_hex)
                fail(Errc::invalid_argument, "store: " + path + ": belongs to account " + owner.substr(0, 10) +
                                                 "…, not " + hex_prefix(account));
            exec("COMMIT", "cannot commit");
        } catch (Failure&) {
            if (!sqlite3_get_autocommit(db.get())) sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }

    // ---- messages ----

    static constexpr const char* kMessageColumns =
        "id, hash, conversation, sender, outgoing, sent_ms, stored_ms, kind, body, quote_author, quote_ms, "
        "quote_text, disappearing, disappearing_seconds, expires_at_ms, status, read_ms, receipt, error, "
        // Whether there is anything to load from the child tables: most messages have neither, and
        // one index probe inside this statement costs less than a query of its own.
        "EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = messages.id), "
        "EXISTS (SELECT 1 FROM reactions r WHERE r.message_id = messages.id)";

    struct Children {
        bool attachments = false;
        bool reactions = false;
    };

    // A row of kMessageColumns; `children` receives what load_children has to read.
    Message message_from(const Query& r, Children& children) {
        children = Children{r.i64(19) != 0, r.i64(20) != 0};
        std::optional<Quote> quote;
        if (!r.null(9)) quote = Quote{r.id(9), r.i64(10), r.text(11)};
        Message m{
            .hash = r.text(1),
            .conversation = r.id(2),
            .sender = r.id(3),
            .sent_ms = r.i64(5),
            .stored_ms = r.i64(6),
            .kind = parse_enum(r.text(7), kAllKinds, "messages.kind"),
            .body = r.text(8),
            .attachments = {},
            .quote = std::move(quote),
            .expiration_type = parse_enum(r.text(12), kAllExpiration, "messages.disappearing"),
            .expiration_timer = std::chrono::seconds(r.i64(13)),
            .status = parse_enum(r.text(15), kAllStatus, "messages.status"),
            .outgoing = r.i64(4) != 0,
            .expires_at_ms = r.opt_i64(14),
            .read_ms = r.opt_i64(16),
            .receipt = parse_enum(r.text(17), kAllReceipt, "messages.receipt"),
            .reactions = {},
            .error = r.text(18),
            .row_id = r.i64(0),
        };
        return m;
    }

    void load_children(Message& m, Children which) {
        if (which.attachments) {
            auto a = q("SELECT attachment_id, url, key, digest, size, content_type, file_name, width, height, caption, "
                       "flags, local_path FROM attachments WHERE message_id = ? ORDER BY idx");
            a.bind(m.row_id);
            while (a.step())
                m.attachments.push_back(Attachment{
                    .id = static_cast<std::uint64_t>(a.i64(0)),
                    .url = a.text(1),
                    .key = a.blob(2),
                    .digest = a.blob(3),
                    .size = static_cast<std::uint64_t>(a.i64(4)),
                    .content_type = a.text(5),
                    .file_name = a.text(6),
                    .width = static_cast<std::uint32_t>(a.i64(7)),
                    .height = static_cast<std::uint32_t>(a.i64(8)),
                    .caption = a.text(9),
                    .flags = static_cast<std::uint32_t>(a.i64(10)),
                    .local_path = a.text(11),
                });
        }
        if (which.reactions) {
            auto r = q("SELECT reactor, emoji FROM reactions WHERE message_id = ? ORDER BY rowid");
            r.bind(m.row_id);
            while (r.step()) m.reactions.push_back(Reaction{r.id(0), r.text(1)});
        }
    }

    void validate(const Message& m) {
        need_hash(m.hash, "message hash");
        const bool outgoing = m.sender == account;
        const bool outgoing_status = m.status == MessageStatus::queued || m.status == MessageStatus::sent ||
                                     m.status == MessageStatus::failed;
        if (outgoing != outgoing_status)
            fail(Errc::invalid_argument, std::string("store: message status: expected ") +
                                             (outgoing ? "queued, sent or failed for an outgoing message"
                                                       : "received or read for an incoming message") +
                                             ", got " + std::string(to_string(m.status)));
        if ((m.expiration_type == ExpirationType::none) != (m.expiration_timer.count() == 0) ||
            m.expiration_timer.count() < 0 || m.expiration_timer.count() > UINT32_MAX)
            fail(Errc::invalid_argument, "store: expiration_timer: expected 0 exactly when the mode is none, else 1.." +
                                             std::to_string(UINT32_MAX) + " s, got " +
                                             std::to_string(m.expiration_timer.count()));
    }

    // Creates the conversation if needed; an outgoing message approves it.
    void touch_conversation(const SessionId& peer, bool outgoing) {
        const std::string hex = peer.hex();
        q("INSERT INTO conversations(peer, state) VALUES (?, ?) ON CONFLICT(peer) DO NOTHING")
            .bind(hex, to_string(outgoing ? ConversationState::approved : ConversationState::request))
            .run();
        if (outgoing) q("UPDATE conversations SET state = 'approved' WHERE peer = ? AND state != 'approved'").bind(hex).run();
    }

    bool insert(const Message& m) {
        validate(m);
        const bool outgoing = m.sender == account;
        touch_conversation(m.conversation, outgoing);
        std::optional<std::int64_t> expires;
        const std::int64_t timer_ms = static_cast<std::int64_t>(m.expiration_timer.count()) * 1000;
        // after_send: from the sent time. after_read: when read; the author has read its own
        // message, and an incoming message stored as already read is taken as read when sent.
        if (m.expiration_type == ExpirationType::delete_after_send ||
            (m.expiration_type == ExpirationType::delete_after_read && (outgoing || m.status == MessageStatus::read)))
            expires = m.sent_ms + timer_ms;
        std::optional<std::int64_t> read_ms;
        if (m.status == MessageStatus::read) read_ms = m.sent_ms;
        auto ins = q("INSERT INTO messages(hash, conversation, sender, outgoing, sent_ms, stored_ms, kind, body, "
                     "quote_author, quote_ms, quote_text, disappearing, disappearing_seconds, expires_at_ms, status, "
                     "read_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(hash) DO NOTHING");
        std::optional<std::string> quote_author, quote_text;
        std::optional<std::int64_t> quote_ms;
        if (m.quote) {
            quote_author = m.quote->author.hex();
            quote_ms = m.quote->timestamp_ms;
            quote_text = m.quote->text;
        }
        ins.bind(m.hash, m.conversation.hex(), m.sender.hex(), outgoing ? 1 : 0, m.sent_ms, m.stored_ms, to_string(m.kind), m.body,
                 quote_author, quote_ms, quote_text, to_string(m.expiration_type), m.expiration_timer.count(), expires,
                 to_string(m.status), read_ms)
            .run();
        if (ins.changes() == 0) return false;
        const std::int64_t id = sqlite3_last_insert_rowid(db.get());
        for (std::size_t i = 0; i < m.attachments.size(); ++i) {
            const auto& a = m.attachments[i];
            q("INSERT INTO attachments(message_id, idx, attachment_id, url, key, digest, size, content_type, "
              "file_name, width, height, caption, flags, local_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .bind(id, static_cast<std::int64_t>(i), static_cast<std::int64_t>(a.id), a.url, a.key, a.digest,
                      to_i64(a.size, "attachment size"), a.content_type, a.file_name, a.width, a.height, a.caption,
                      a.flags, a.local_path)
                .run();
        }
        return true;
    }

    // Deletes the messages with these row ids; a queued outbox entry of one fails with `why`.
    Removed remove(const std::vector<std::pair<std::int64_t, std::string>>& rows, std::string_view why) {
        Removed out;
        for (const auto& [id, hash] : rows) {
            auto p = q("SELECT local_path FROM attachments WHERE message_id = ? AND local_path != '' ORDER BY idx");
            p.bind(id);
            while (p.step()) out.attachment_paths.push_back(p.text(0));
            q("UPDATE outbox SET status = 'failed', last_error = ? WHERE hash = ? AND status = 'queued'")
                .bind(why, hash)
                .run();
            q("DELETE FROM messages WHERE id = ?").bind(id).run();
            out.hashes.push_back(hash);
        }
        return out;
    }

    std::vector<std::pair<std::int64_t, std::string>> rows_of(Query&& r) {
        std::vector<std::pair<std::int64_t, std::string>> rows;
        while (r.step()) rows.emplace_back(r.i64(0), r.text(1));
        return rows;
    }

    // ---- conversations ----

    Conversation conversation_from(const Query& r) {
        std::optional<Avatar> avatar;
        if (!r.null(2)) avatar = Avatar{r.text(2), r.blob(3), r.text(4)};
        Conversation c{
            .peer = r.id(0),
            .display_name = r.text(1),
            .avatar = std::move(avatar),
            .expiration_type = parse_enum(r.text(5), kAllExpiration, "conversations.disappearing"),
            .expiration_timer = std::chrono::seconds(r.i64(6)),
            .state = parse_enum(r.text(7), kAllStates, "conversations.state"),
            .unread = static_cast<std::size_t>(r.i64(8)),
            .last_message_ms = r.null(9) ? 0 : r.i64(9),
        };
        return c;
    }

    static constexpr const char* kConversationSelect =
        "SELECT peer, display_name, avatar_url, avatar_key, avatar_path, disappearing, disappearing_seconds, state, "
        "(SELECT count(*) FROM messages m WHERE m.conversation = c.peer AND m.status = 'received'), "
        "(SELECT max(sent_ms) FROM messages m WHERE m.conversation = c.peer) FROM conversations c ";

    // ---- outbox ----

    OutboxEntry outbox_from(const Query& r) {
        OutboxEntry e{
            .hash = r.text(0),
            .recipient = r.id(1),
            .ns = static_cast<std::int16_t>(r.i64(2)),
            .data = r.text(3),
            .ttl_ms = r.i64(4),
            .sent_ms = r.i64(5),
            .status = parse_enum(r.text(6), kAllOutbox, "outbox.status"),
            .attempts = static_cast<std::uint32_t>(r.i64(7)),
            .next_attempt_ms = r.i64(8),
            .last_error = r.text(9),
        };
        return e;
    }

    std::optional<OutboxEntry> outbox_get(std::string_view hash) {
        auto r = q("SELECT hash, recipient, namespace, data, ttl_ms, sent_ms, status, attempts, next_attempt_ms, "
                   "last_error FROM outbox WHERE hash = ?");
        r.bind(hash);
        if (!r.step()) return std::nullopt;
        return outbox_from(r);
    }

    // ---- ledger ----

    void validate(const LedgerItem& d) { need_hash(d.hash, "ledger: delivered hash"); }
    void validate(const LedgerCursor& c) {
        need_hash(c.last_hash, "ledger: cursor last_hash");
        if (!c.base.empty()) need_hash(c.base, "ledger: cursor base");
        for (const auto& [node, hash] : c.nodes.last_hash) need_hash(hash, "ledger: cursor node hash");
    }

    void ensure_ledger() { q("INSERT INTO ledger(id, next_seq, latest) VALUES (1, 1, '') ON CONFLICT(id) DO NOTHING").run(); }

    void put_delivered(const LedgerItem& d) {
        q("INSERT INTO ledger_delivered(hash, seq, expiry_ms) VALUES (?, ?, ?) ON CONFLICT(hash) DO UPDATE SET "
          "seq = excluded.seq, expiry_ms = excluded.expiry_ms")
            .bind(d.hash, to_i64(d.seq, "ledger seq"), d.expiry_ms)
            .run();
    }

    void insert_cursor_nodes(const LedgerCursor& c) {
        for (const auto& [node, hash] : c.nodes.last_hash)
            q("INSERT INTO ledger_cursor_nodes(last_hash, node, hash) VALUES (?, ?, ?)")
                .bind(c.last_hash, to_hex(node.bytes), hash)
                .run();
    }

    // The member → hash rows of one cursor (member keys are 64 hex digits on disk).
    retrieve::NodeCursor cursor_nodes(const std::string& last_hash) {
        retrieve::NodeCursor nodes;
        auto n = q("SELECT node, hash FROM ledger_cursor_nodes WHERE last_hash = ?");
        n.bind(last_hash);
        while (n.step()) {
            const std::string hex = n.text(0);
            auto key = is_hex64(hex) ? from_hex_array<32>(hex) : Result<ByteArray<32>>(unexpected(Errc::hex_invalid, ""));
            if (!key) fail(Errc::store_corrupt, "store: ledger_cursor_nodes.node: expected 64 lower-case hex digits");
            nodes.last_hash.insert_or_assign(Ed25519PublicKey{*key}, n.text(1));
        }
        return nodes;
    }

    void put_cursor(const LedgerCursor& c, std::size_t max_cursors) {
        ensure_ledger();
        auto existing = q("SELECT base FROM ledger_cursors WHERE last_hash = ?");
        existing.bind(c.last_hash);
        if (existing.step()) {
            const std::string base = existing.text(0);
            if (base == c.base && cursor_nodes(c.last_hash) == c.nodes) return;
            q("UPDATE ledger_cursors SET base = ? WHERE last_hash = ?").bind(c.base, c.last_hash).run();
            q("DELETE FROM ledger_cursor_nodes WHERE last_hash = ?").bind(c.last_hash).run();
            insert_cursor_nodes(c);
            return;
        }
        q("INSERT INTO ledger_cursors(last_hash, base, age) VALUES (?, ?, "
          "(SELECT coalesce(max(age), 0) + 1 FROM ledger_cursors))")
            .bind(c.last_hash, c.base)
            .run();
        insert_cursor_nodes(c);
        q("DELETE FROM ledger_cursors WHERE age <= (SELECT max(age) FROM ledger_cursors) - ?")
            .bind(to_i64(max_cursors, "max_cursors"))
            .run();
    }

    // ---- events ----

    std::uint64_t last_seq() {
        auto r = q("SELECT seq FROM sqlite_sequence WHERE name = 'events'");
        return r.step() ? static_cast<std::uint64_t>(r.i64(0)) : 0;
    }
};

// ---- Store ------------------------------------------------------------------------------------------

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

namespace {
template <class P>
auto& live(const P& impl) {
    if (!impl) throw std::logic_error("store: used after move");
    return *impl;
}
}  // namespace

Result<Store> Store::open(const std::string& path, const SessionId& account, const StoreOptions& options) {
    if (path.empty()) return unexpected(Errc::invalid_argument, "store: path: expected a file name, got an empty one");
    if (options.retry_min.count() <= 0 || options.retry_max < options.retry_min)
        return unexpected(Errc::invalid_argument, "store: retry_min/retry_max: expected 0 < retry_min <= retry_max");
    auto impl = std::make_unique<Impl>(path, account, options);
    try {
        impl->open_files();
        impl->configure();
    } catch (Failure& e) {
        return unexpected(std::move(e.error));
    }
    return Store(std::move(impl));
}

const std::string& Store::path() const { return live(impl_).path; }
const SessionId& Store::account() const { return live(impl_).account; }

Result<int> Store::schema_version() const {
    auto& im = live(impl_);
    return im.read([&] { return static_cast<int>(im.pragma_int("PRAGMA user_version", "read the schema version")); });
}

Result<void> Store::transaction(const std::function<Result<void>()>& fn) {
    auto& im = live(impl_);
    auto r = im.write([&] {
        auto inner = fn();
        if (!inner) throw Failure{inner.error()};
    });
    return r;
}

// ---- messages -----------------------------------------------------------------------------------------

Result<bool> Store::insert_message(const Message& m) {
    auto& im = live(impl_);
    return im.write([&] { return im.insert(m); });
}

Result<std::optional<Message>> Store::message(std::string_view hash) const {
    auto& im = live(impl_);
    return im.read([&]() -> std::optional<Message> {
        static const std::string sql = std::string("SELECT ") + Impl::kMessageColumns + " FROM messages WHERE hash = ?";
        std::optional<Message> m;
        Impl::Children children;
        {
            auto r = im.q(sql.c_str());
            r.bind(hash);
            if (!r.step()) return std::nullopt;
            m = im.message_from(r, children);
        }
        im.load_children(*m, children);
        return m;
    });
}

Result<MessagePage> Store::list_messages(const SessionId& conversation, const MessageQuery& query) const {
    auto& im = live(impl_);
    if (query.limit == 0 || query.limit > kMaxPageSize)
        return unexpected(Errc::invalid_argument, "store: list_messages: limit: expected 1.." +
                                                      std::to_string(kMaxPageSize) + ", got " +
                                                      std::to_string(query.limit));
    return im.read([&] {
        // (sent_ms, id) row values walk the messages_timeline index in either direction.
        static const std::string cols = std::string("SELECT ") + Impl::kMessageColumns + " FROM messages WHERE conversation = ?1 ";
        static const std::string newest = cols + "ORDER BY sent_ms DESC, id DESC LIMIT ?4";
        static const std::string newest_after = cols + "AND (sent_ms, id) < (?2, ?3) ORDER BY sent_ms DESC, id DESC LIMIT ?4";
        static const std::string oldest = cols + "ORDER BY sent_ms, id LIMIT ?4";
        static const std::string oldest_after = cols + "AND (sent_ms, id) > (?2, ?3) ORDER BY sent_ms, id LIMIT ?4";
        const bool desc = query.order == Order::newest_first;
        const std::string& sql = query.after ? (desc ? newest_after : oldest_after) : (desc ? newest : oldest);
        MessagePage page;
        std::vector<Impl::Children> children;
        {
            auto r = im.q(sql.c_str());
            const auto c = query.after.value_or(MessageCursor{});
            r.bind(conversation.hex(), c.sent_ms, c.row_id, static_cast<std::int64_t>(query.limit + 1));
            while (r.step()) page.messages.push_back(im.message_from(r, children.emplace_back()));
        }
        if (page.messages.size() > query.limit) {
            page.messages.pop_back();
            page.next = MessageCursor{page.messages.back().sent_ms, page.messages.back().row_id};
        }
        for (std::size_t i = 0; i < page.messages.size(); ++i) im.load_children(page.messages[i], children[i]);
        return page;
    });
}

Result<std::vector<std::int64_t>> Store::mark_read(const SessionId& conversation, std::int64_t up_to_sent_ms,
                                                   std::int64_t now_ms) {
    auto& im = live(impl_);
    return im.write([&] {
        const std::string peer = conversation.hex();
        std::vector<std::int64_t> read;
        {
            auto r = im.q("SELECT sent_ms FROM messages WHERE conversation = ? AND status = 'received' AND sent_ms <= ? "
                          "ORDER BY sent_ms, id");
            r.bind(peer, up_to_sent_ms);
            while (r.step()) read.push_back(r.i64(0));
        }
        if (!read.empty())
            im.q("UPDATE messages SET status = 'read', read_ms = ?3, expires_at_ms = CASE WHEN disappearing = "
                 "'delete_after_read' THEN ?3 + disappearing_seconds * 1000 ELSE expires_at_ms END "
                 "WHERE conversation = ?1 AND status = 'received' AND sent_ms <= ?2")
                .bind(peer, up_to_sent_ms, now_ms)
                .run();
        return read;
    });
}

Result<Removed> Store::apply_unsend(const SessionId& requester, std::int64_t sent_ms) {
    auto& im = live(impl_);
    return im.write([&] {
        auto rows = im.rows_of(std::move(im.q("SELECT id, hash FROM messages WHERE sender = ? AND sent_ms = ?")
                                             .bind(requester.hex(), sent_ms)));
        return im.remove(rows, "unsent before it was stored");
    });
}

Result<Removed> Store::delete_message(std::string_view hash) {
    auto& im = live(impl_);
    return im.write([&] {
        auto rows = im.rows_of(std::move(im.q("SELECT id, hash FROM messages WHERE hash = ?").bind(hash)));
        return im.remove(rows, "deleted before it was stored");
    });
}

Result<bool> Store::apply_reaction(const SessionId& author, std::int64_t timestamp_ms, const SessionId& reactor,
                                   std::string_view emoji, bool add) {
    auto& im = live(impl_);
    if (emoji.empty()) return unexpected(Errc::invalid_argument, "store: reaction: emoji: expected text, got none");
    return im.write([&] {
        std::int64_t id = 0;
        {
            auto r = im.q("SELECT id FROM messages WHERE sender = ? AND sent_ms = ? ORDER BY id LIMIT 1");
            r.bind(author.hex(), timestamp_ms);
            if (!r.step()) return false;
            id = r.i64(0);
        }
        if (add)
            im.q("INSERT INTO reactions(message_id, reactor, emoji) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                .bind(id, reactor.hex(), emoji)
                .run();
        else
            im.q("DELETE FROM reactions WHERE message_id = ? AND reactor = ? AND emoji = ?").bind(id, reactor.hex(), emoji).run();
        return true;
    });
}

Result<std::size_t> Store::apply_receipt(const SessionId& peer, std::span<const std::int64_t> timestamps, Receipt state) {
    auto& im = live(impl_);
    return im.write([&] {
        std::size_t changed = 0;
        const std::string hex = peer.hex();
        for (auto ts : timestamps) {
            auto u = im.q("UPDATE messages SET receipt = ?1 WHERE conversation = ?2 AND outgoing = 1 AND sent_ms = ?3 "
                          "AND CASE receipt WHEN 'none' THEN 0 WHEN 'delivered' THEN 1 ELSE 2 END < ?4");
            u.bind(to_string(state), hex, ts, receipt_rank(state)).run();
            changed += static_cast<std::size_t>(u.changes());
        }
        return changed;
    });
}

Result<bool> Store::set_attachment_path(std::string_view hash, std::size_t index, std::string_view local_path) {
    auto& im = live(impl_);
    return im.write([&] {
        auto u = im.q("UPDATE attachments SET local_path = ? WHERE message_id = (SELECT id FROM messages WHERE hash = ?) "
                      "AND idx = ?");
        u.bind(local_path, hash, to_i64(index, "attachment index")).run();
        return u.changes() > 0;
    });
}

Result<Removed> Store::purge_expired(std::int64_t now_ms, std::chrono::milliseconds max_age) {
    auto& im = live(impl_);
    return im.write([&] {
        // Two index lookups (expiry, sent time) rather than one OR that would scan the table.
        auto expired = im.rows_of(std::move(
            im.q("SELECT id, hash FROM messages WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ?").bind(now_ms)));
        auto old = im.rows_of(
            std::move(im.q("SELECT id, hash FROM messages WHERE sent_ms < ?").bind(now_ms - max_age.count())));
        std::sort(expired.begin(), expired.end());
        for (auto& row : old)
            if (!std::binary_search(expired.begin(), expired.end(), row)) expired.push_back(std::move(row));
        return im.remove(expired, "expired before it was stored");
    });
}

// ---- conversations ----------------------------------------------------------------------------------

Result<std::optional<Conversation>> Store::conversation(const SessionId& peer) const {
    auto& im = live(impl_);
    return im.read([&]() -> std::optional<Conversation> {
        static const std::string sql = std::string(Impl::kConversationSelect) + "WHERE peer = ?";
        auto r = im.q(sql.c_str());
        r.bind(peer.hex());
        if (!r.step()) return std::nullopt;
        return im.conversation_from(r);
    });
}

Result<std::vector<Conversation>> Store::list_conversations(std::size_t limit) const {
    auto& im = live(impl_);
    return im.read([&] {
        // Newest message first (result column 10; NULL, no message, sorts last), then by peer.
        static const std::string ordered = std::string(Impl::kConversationSelect) + "ORDER BY 10 DESC, peer LIMIT ?";
        std::vector<Conversation> out;
        auto r = im.q(ordered.c_str());
        r.bind(to_i64(limit, "limit"));
        while (r.step()) out.push_back(im.conversation_from(r));
        return out;
    });
}

Result<void> Store::set_display_name(const SessionId& peer, std::string_view name) {
    auto& im = live(impl_);
    return im.write([&] {
        im.q("INSERT INTO conversations(peer, display_name) VALUES (?, ?) ON CONFLICT(peer) DO UPDATE SET "
             "display_name = excluded.display_name")
            .bind(peer.hex(), name)
            .run();
    });
}

Result<void> Store::set_avatar(const SessionId& peer, const std::optional<Avatar>& avatar) {
    auto& im = live(impl_);
    return im.write([&] {
        std::optional<std::string> url, path;
        std::optional<Bytes> key;
        if (avatar) {
            url = avatar->url;
            key = avatar->key;
            path = avatar->local_path;
        }
        im.q("INSERT INTO conversations(peer, avatar_url, avatar_key, avatar_path) VALUES (?, ?, ?, ?) "
             "ON CONFLICT(peer) DO UPDATE SET avatar_url = excluded.avatar_url, avatar_key = excluded.avatar_key, "
             "avatar_path = excluded.avatar_path")
            .bind(peer.hex(), url, key, path)
            .run();
    });
}

Result<void> Store::set_disappearing(const SessionId& peer, ExpirationType mode, std::chrono::seconds timer) {
    const std::int64_t seconds = timer.count();
    auto& im = live(impl_);
    if ((mode == ExpirationType::none) != (seconds == 0) || seconds < 0 || seconds > UINT32_MAX)
        return unexpected(Errc::invalid_argument, "store: disappearing seconds: expected 0 exactly when the mode is none, got " +
                                                      std::to_string(seconds));
    return im.write([&] {
        im.q("INSERT INTO conversations(peer, disappearing, disappearing_seconds) VALUES (?, ?, ?) "
             "ON CONFLICT(peer) DO UPDATE SET disappearing = excluded.disappearing, "
             "disappearing_seconds = excluded.disappearing_seconds")
            .bind(peer.hex(), to_string(mode), seconds)
            .run();
    });
}

Result<void> Store::set_state(const SessionId& peer, ConversationState state) {
    auto& im = live(impl_);
    return im.write([&] {
        im.q("INSERT INTO conversations(peer, state) VALUES (?, ?) ON CONFLICT(peer) DO UPDATE SET state = excluded.state")
            .bind(peer.hex(), to_string(state))
            .run();
    });
}

Result<Removed> Store::delete_conversation(const SessionId& peer) {
    auto& im = live(impl_);
    return im.write([&] {
        auto rows = im.rows_of(std::move(im.q("SELECT id, hash FROM messages WHERE conversation = ?").bind(peer.hex())));
        auto removed = im.remove(rows, "deleted before it was stored");
        im.q("DELETE FROM conversations WHERE peer = ?").bind(peer.hex()).run();
        return removed;
    });
}

// ---- outbox -------------------------------------------------------------------------------------------

Result<Enqueued> Store::enqueue(const NewOutboxEntry& entry, const std::optional<Message>& message) {
    auto& im = live(impl_);
    if (entry.data.empty()) return unexpected(Errc::invalid_argument, "store: outbox data: expected base64, got nothing");
    auto raw = base64_decode(entry.data);
    if (!raw) return unexpected(Errc::invalid_argument, "store: outbox data: " + raw.error().message);
    if (entry.ttl_ms <= 0)
        return unexpected(Errc::invalid_argument, "store: outbox ttl_ms: expected > 0, got " + std::to_string(entry.ttl_ms));
    const auto pubkey = entry.recipient.bytes();
    const std::string hash = swarm::message_hash(pubkey, entry.ns, *raw);
    std::optional<Message> m = message;
    if (m) {
        if (!(m->sender == im.account))
            return unexpected(Errc::invalid_argument, "store: enqueue: the message's sender is " + hex_prefix(m->sender) +
                                                          ", not this store's account");
        if (!m->hash.empty() && m->hash != hash)
            return unexpected(Errc::invalid_argument, "store: enqueue: the message's hash is not the hash of the queued data");
        m->hash = hash;
        m->status = MessageStatus::queued;
    }
    return im.write([&] {
        auto ins = im.q("INSERT INTO outbox(hash, recipient, namespace, data, ttl_ms, sent_ms, status, next_attempt_ms) "
                        "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?) ON CONFLICT(hash) DO NOTHING");
        // Due at once (0), whatever the clock: a fresh entry's timestamp may be a few ms ahead of
        // another process's idea of now (strictly increasing stamps, a learned clock offset).
        ins.bind(hash, entry.recipient.hex(), entry.ns, entry.data, entry.ttl_ms, entry.sent_ms, std::int64_t{0}).run();
        if (ins.changes() == 0) {
            auto existing = im.outbox_get(hash);
            return Enqueued{hash, false, existing ? existing->status : OutboxStatus::queued};
        }
        if (m) im.insert(*m);
        return Enqueued{hash, true, OutboxStatus::queued};
    });
}

Result<std::optional<OutboxEntry>> Store::outbox_entry(std::string_view hash) const {
    auto& im = live(impl_);
    return im.read([&] { return im.outbox_get(hash); });
}

Result<std::vector<OutboxEntry>> Store::take_due(std::int64_t now_ms, std::size_t max, std::chrono::milliseconds lease) {
    auto& im = live(impl_);
    return im.write([&] {
        std::vector<OutboxEntry> due;
        {
            auto r = im.q("SELECT hash, recipient, namespace, data, ttl_ms, sent_ms, status, attempts, next_attempt_ms, "
                          "last_error FROM outbox WHERE status = 'queued' AND next_attempt_ms <= ?1 AND "
                          "sent_ms + ttl_ms > ?1 ORDER BY next_attempt_ms, sent_ms LIMIT ?2");
            r.bind(now_ms, to_i64(max, "max"));
            while (r.step()) due.push_back(im.outbox_from(r));
        }
        for (auto& e : due) {
            e.attempts += 1;
            e.next_attempt_ms = now_ms + lease.count();
            im.q("UPDATE outbox SET attempts = ?, next_attempt_ms = ? WHERE hash = ?")
                .bind(e.attempts, e.next_attempt_ms, e.hash)
                .run();
        }
        return due;
    });
}

Result<bool> Store::mark_stored(std::string_view hash, std::int64_t stored_ms) {
    auto& im = live(impl_);
    return im.write([&] {
        // From any status: a late success (after a retry gave up, or the TTL passed on this side)
        // is still the truth.
        auto u = im.q("UPDATE outbox SET status = 'stored', last_error = '' WHERE hash = ? AND status != 'stored'");
        u.bind(hash).run();
        if (u.changes() == 0) return false;
        im.q("UPDATE messages SET status = 'sent', stored_ms = ?, error = '' WHERE hash = ? AND outgoing = 1")
            .bind(stored_ms, hash)
            .run();
        return true;
    });
}

Result<std::optional<std::int64_t>> Store::retry_later(std::string_view hash, std::int64_t now_ms, std::string_view error) {
    auto& im = live(impl_);
    return im.write([&]() -> std::optional<std::int64_t> {
        std::int64_t attempts = 0;
        {
            auto r = im.q("SELECT attempts FROM outbox WHERE hash = ? AND status = 'queued'");
            r.bind(hash);
            if (!r.step()) return std::nullopt;
            attempts = r.i64(0);
        }
        // retry_min * 2^(attempts - 1), capped at retry_max (the exponent is capped before the shift).
        const auto shift = static_cast<int>(std::clamp<std::int64_t>(attempts - 1, 0, 30));
        const std::int64_t min = im.options.retry_min.count(), max = im.options.retry_max.count();
        const std::int64_t delay = min > (max >> shift) ? max : std::min(max, min << shift);
        const std::int64_t next = now_ms + delay;
        im.q("UPDATE outbox SET next_attempt_ms = ?, last_error = ? WHERE hash = ?").bind(next, error, hash).run();
        return next;
    });
}

Result<bool> Store::mark_failed(std::string_view hash, std::string_view error) {
    auto& im = live(impl_);
    return im.write([&] {
        auto u = im.q("UPDATE outbox SET status = 'failed', last_error = ? WHERE hash = ? AND status = 'queued'");
        u.bind(error, hash).run();
        if (u.changes() == 0) return false;
        im.q("UPDATE messages SET status = 'failed', error = ? WHERE hash = ? AND status = 'queued'").bind(error, hash).run();
        return true;
    });
}

Result<std::vector<OutboxEntry>> Store::expire_outbox(std::int64_t now_ms) {
    auto& im = live(impl_);
    return im.write([&] {
        constexpr std::string_view why = "the TTL passed before the swarm stored it";
        std::vector<OutboxEntry> expired;
        {
            auto r = im.q("SELECT hash, recipient, namespace, data, ttl_ms, sent_ms, status, attempts, next_attempt_ms, "
                          "last_error FROM outbox WHERE status = 'queued' AND sent_ms + ttl_ms <= ?");
            r.bind(now_ms);
            while (r.step()) expired.push_back(im.outbox_from(r));
        }
        for (auto& e : expired) {
            e.status = OutboxStatus::expired;
            if (e.last_error.empty()) e.last_error = std::string(why);
            im.q("UPDATE messages SET status = 'failed', error = ? WHERE hash = ? AND status = 'queued'")
                .bind(e.last_error, e.hash)
                .run();
        }
        im.q("DELETE FROM outbox WHERE sent_ms + ttl_ms <= ?").bind(now_ms).run();
        return expired;
    });
}

// ---- receive ledger ------------------------------------------------------------------------------------

Result<std::optional<detail::ReceiveState>> Store::load_receive_state() const {
    auto& im = live(impl_);
    return im.read([&]() -> std::optional<detail::ReceiveState> {
        detail::ReceiveState st;
        {
            auto r = im.q("SELECT next_seq, latest FROM ledger WHERE id = 1");
            if (!r.step()) return std::nullopt;
            st.account = im.account_hex;
            st.next_seq = static_cast<std::uint64_t>(r.i64(0));
            st.latest = r.text(1);
        }
        {
            auto r = im.q("SELECT hash, seq, expiry_ms FROM ledger_delivered ORDER BY seq");
            while (r.step())
                st.delivered.push_back({r.text(0), static_cast<std::uint64_t>(r.i64(1)), r.i64(2)});
        }
        {
            auto r = im.q("SELECT last_hash, base FROM ledger_cursors ORDER BY age");
            while (r.step()) st.cursors.push_back({r.text(0), r.text(1), {}});
        }
        for (auto& c : st.cursors) c.nodes = im.cursor_nodes(c.last_hash);
        return st;
    });
}

Result<void> Store::save_receive_state(const detail::ReceiveState& state) {
    auto& im = live(impl_);
    if (state.account != im.account_hex)
        return unexpected(Errc::invalid_argument, "store: receive state: written for account " +
                                                      state.account.substr(0, 10) + "…, not " + hex_prefix(im.account));
    return im.write([&] {
        // The rules the JSON backend's parser enforces, so both accept the same states.
        if (state.next_seq == 0) fail(Errc::invalid_argument, "store: ledger: next_seq: expected a number from 1");
        std::uint64_t prev = 0;
        for (const auto& d : state.delivered) {
            im.validate(LedgerItem{d.hash, d.seq, d.expiry_ms});
            if (d.seq <= prev || d.seq >= state.next_seq)
                fail(Errc::invalid_argument, "store: ledger: delivered seq " + std::to_string(d.seq) + " out of order");
            prev = d.seq;
        }
        if (!state.latest.empty()) need_hash(state.latest, "ledger: latest");
        im.exec("DELETE FROM ledger_cursors; DELETE FROM ledger_delivered; DELETE FROM ledger",
                "cannot clear the receive ledger");
        im.q("INSERT INTO ledger(id, next_seq, latest) VALUES (1, ?, ?)")
            .bind(to_i64(state.next_seq, "next_seq"), state.latest)
            .run();
        for (const auto& d : state.delivered) im.put_delivered(LedgerItem{d.hash, d.seq, d.expiry_ms});
        std::int64_t age = 0;
        for (const auto& c : state.cursors) {
            LedgerCursor lc{c.last_hash, c.base, c.nodes};
            im.validate(lc);
            im.q("INSERT INTO ledger_cursors(last_hash, base, age) VALUES (?, ?, ?)").bind(c.last_hash, c.base, ++age).run();
            im.insert_cursor_nodes(lc);
        }
    });
}

Result<void> Store::record_receive_page(const LedgerPage& page) {
    auto& im = live(impl_);
    return im.write([&] {
        if (page.next_seq == 0) fail(Errc::invalid_argument, "store: ledger: next_seq: expected a number from 1");
        for (const auto& d : page.delivered) {
            im.validate(d);
            if (d.seq == 0 || d.seq >= page.next_seq)
                fail(Errc::invalid_argument, "store: ledger: delivered seq " + std::to_string(d.seq) +
                                                 ": expected 1.." + std::to_string(page.next_seq - 1));
        }
        if (page.cursor) im.validate(*page.cursor);
        if (!page.latest.empty()) need_hash(page.latest, "ledger: latest");
        im.q("INSERT INTO ledger(id, next_seq, latest) VALUES (1, ?1, ?2) ON CONFLICT(id) DO UPDATE SET "
             "next_seq = max(next_seq, excluded.next_seq), "
             "latest = CASE WHEN excluded.latest = '' THEN latest ELSE excluded.latest END")
            .bind(to_i64(page.next_seq, "next_seq"), page.latest)
            .run();
        for (const auto& d : page.delivered) im.put_delivered(d);
        if (page.cursor) im.put_cursor(*page.cursor, page.max_cursors);
    });
}

Result<void> Store::put_cursor(const LedgerCursor& cursor, std::size_t max_cursors) {
    auto& im = live(impl_);
    return im.write([&] {
        im.validate(cursor);
        im.put_cursor(cursor, max_cursors);
    });
}

Result<std::size_t> Store::prune_ledger(std::int64_t cutoff_ms) {
    auto& im = live(impl_);
    return im.write([&] {
        auto d = im.q("DELETE FROM ledger_delivered WHERE expiry_ms < ?");
        d.bind(cutoff_ms).run();
        return static_cast<std::size_t>(d.changes());
    });
}

Result<LedgerImport> Store::import_receive_state(const std::string& json_path) {
    auto& im = live(impl_);
    std::lock_guard guard(im.mu);
    auto loaded = detail::load_receive_state(json_path);
    if (!loaded) return unexpected(std::move(loaded).error());
    if (!*loaded) return LedgerImport::no_file;
    auto had = im.read([&] {
        auto r = im.q("SELECT 1 FROM ledger WHERE id = 1");
        return r.step();
    });
    if (!had) return unexpected(had.error());
    LedgerImport result = LedgerImport::kept_store;
    if (!*had) {
        if (auto saved = save_receive_state(**loaded); !saved) return unexpected(saved.error());
        result = LedgerImport::imported;
    }
    // Only now, with the ledger committed: a crash before this rename imports nothing twice (the
    // next call finds the store's ledger and only renames).
    const std::string aside = json_path + ".imported";
    if (std::rename(json_path.c_str(), aside.c_str()) != 0)
        return unexpected(Errc::io_error, "store: " + json_path + ": imported, but cannot rename it to " + aside + ": " +
                                              std::strerror(errno));
    return result;
}

// ---- events ------------------------------------------------------------------------------------------

Result<std::uint64_t> Store::append_event(std::string_view type, std::string_view payload_json, std::int64_t time_ms) {
    auto& im = live(impl_);
    if (type.empty()) return unexpected(Errc::invalid_argument, "store: event type: expected a name, got none");
    if (payload_json.size() > kMaxEventPayloadBytes)
        return unexpected(Errc::invalid_argument, "store: event payload: expected at most " +
                                                      std::to_string(kMaxEventPayloadBytes) + " bytes, got " +
                                                      std::to_string(payload_json.size()));
    // accept() runs the SAX parser (an explicit stack, no recursion per level) and builds nothing.
    if (!nlohmann::json::accept(payload_json))
        return unexpected(Errc::invalid_argument, "store: event payload: expected JSON text");
    return im.write([&] {
        im.q("INSERT INTO events(type, payload, time_ms) VALUES (?, ?, ?)").bind(type, payload_json, time_ms).run();
        return static_cast<std::uint64_t>(sqlite3_last_insert_rowid(im.db.get()));
    });
}

Result<std::vector<Event>> Store::events_after(std::uint64_t after_seq, std::size_t max) const {
    auto& im = live(impl_);
    return im.read([&] {
        std::vector<Event> out;
        if (after_seq > static_cast<std::uint64_t>(INT64_MAX)) return out;
        auto r = im.q("SELECT seq, type, payload, time_ms FROM events WHERE seq > ? ORDER BY seq LIMIT ?");
        r.bind(static_cast<std::int64_t>(after_seq), to_i64(max, "max"));
        while (r.step()) out.push_back(Event{static_cast<std::uint64_t>(r.i64(0)), r.text(1), r.text(2), r.i64(3)});
        return out;
    });
}

Result<std::uint64_t> Store::last_event_seq() const {
    auto& im = live(impl_);
    return im.read([&] { return im.last_seq(); });
}

Result<void> Store::ack_events(std::string_view subscriber, std::uint64_t seq) {
    auto& im = live(impl_);
    if (subscriber.empty()) return unexpected(Errc::invalid_argument, "store: subscriber: expected a name, got none");
    return im.write([&] {
        const auto last = im.last_seq();
        if (seq > last)
            fail(Errc::invalid_argument, "store: ack: seq " + std::to_string(seq) + " is beyond the last event (" +
                                             std::to_string(last) + ")");
        im.q("INSERT INTO event_acks(subscriber, seq) VALUES (?, ?) ON CONFLICT(subscriber) DO UPDATE SET "
             "seq = max(seq, excluded.seq)")
            .bind(subscriber, static_cast<std::int64_t>(seq))
            .run();
    });
}

Result<std::optional<std::uint64_t>> Store::acked_seq(std::string_view subscriber) const {
    auto& im = live(impl_);
    return im.read([&]() -> std::optional<std::uint64_t> {
        auto r = im.q("SELECT seq FROM event_acks WHERE subscriber = ?");
        r.bind(subscriber);
        if (!r.step()) return std::nullopt;
        return static_cast<std::uint64_t>(r.i64(0));
    });
}

Result<void> Store::remove_subscriber(std::string_view subscriber) {
    auto& im = live(impl_);
    return im.write([&] { im.q("DELETE FROM event_acks WHERE subscriber = ?").bind(subscriber).run(); });
}

Result<std::size_t> Store::prune_events(std::int64_t now_ms, std::chrono::milliseconds retention) {
    auto& im = live(impl_);
    return im.write([&] {
        std::size_t removed = 0;
        {
            // min() over no rows is NULL, and `seq <= NULL` matches nothing: no subscriber, no pruning.
            auto d = im.q("DELETE FROM events WHERE seq <= (SELECT min(seq) FROM event_acks)");
            d.run();
            removed += static_cast<std::size_t>(d.changes());
        }
        auto d = im.q("DELETE FROM events WHERE time_ms < ?");
        d.bind(now_ms - retention.count()).run();
        removed += static_cast<std::size_t>(d.changes());
        return removed;
    });
}

Result<StoreStats> Store::stats() const {
    auto& im = live(impl_);
    return im.read([&] {
        StoreStats s;
        s.messages = static_cast<std::uint64_t>(im.pragma_int("SELECT count(*) FROM messages", "count messages"));
        s.conversations = static_cast<std::uint64_t>(im.pragma_int("SELECT count(*) FROM conversations", "count conversations"));
        s.outbox_queued = static_cast<std::uint64_t>(
            im.pragma_int("SELECT count(*) FROM outbox WHERE status = 'queued'", "count the outbox"));
        s.events = static_cast<std::uint64_t>(im.pragma_int("SELECT count(*) FROM events", "count events"));
        s.file_bytes = static_cast<std::uint64_t>(im.pragma_int("PRAGMA page_count", "read the page count")) *
                       static_cast<std::uint64_t>(im.pragma_int("PRAGMA page_size", "read the page size"));
        s.sqlite_memory_bytes = sqlite3_memory_used();
        return s;
    });
}

}  // namespace session::store

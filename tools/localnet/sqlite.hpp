#pragma once
// sqlite.hpp: the small SQLite layer the local network's stores share (store.cpp: a node's
// messages; file_store.cpp: the file server's files). Every handle has one owner.
#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "detail/handle.hpp"
#include "session/bytes.hpp"

namespace session::localnet::detail {

using Database = session::detail::Handle<sqlite3, sqlite3_close>;

/// Opens (creating) the database at `path`, or an in-memory one when `path` is empty; WAL for files.
/// Throws std::runtime_error if SQLite cannot open it.
Database open_database(const std::string& path);

/// Runs SQL without results; throws std::runtime_error with SQLite's message on failure.
void exec(sqlite3* db, const char* sql);

/// Prepared statements kept for reuse by one database's owner (preparing is most of a small
/// statement's cost). Not thread-safe: used under the owner's lock. Keyed by SQL text; at most
/// kMax are kept (a statement beyond them is finalized after use).
class StatementCache {
public:
    static constexpr std::size_t kMax = 64;
    explicit StatementCache(sqlite3* db) : db_(db) {}
    ~StatementCache() {
        for (auto& entry : stmts_) sqlite3_finalize(entry.second);
    }
    StatementCache(const StatementCache&) = delete;
    StatementCache& operator=(const StatementCache&) = delete;
    sqlite3* db() const { return db_; }
    /// A statement for `sql`, ready to bind: a kept one, or newly prepared (nullptr if that fails).
    sqlite3_stmt* take(const char* sql) {
        if (auto it = stmts_.find(sql); it != stmts_.end()) {
            sqlite3_stmt* s = it->second;
            stmts_.erase(it);
            return s;
        }
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
            sqlite3_finalize(s);
            return nullptr;
        }
        return s;
    }
    /// Hands a statement from take() back, reset and unbound. Its key is the statement's own copy of
    /// its SQL: the text take() was given may be gone (SQL built in a std::string).
    void give_back(sqlite3_stmt* s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        const char* sql = sqlite3_sql(s);
        if (sql == nullptr || stmts_.size() >= kMax || !stmts_.emplace(sql, s).second) sqlite3_finalize(s);
    }

private:
    sqlite3* db_;
    std::unordered_map<std::string, sqlite3_stmt*> stmts_;
};

/// A prepared statement that finalizes itself (or, from a StatementCache, goes back to it).
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
            sqlite3_finalize(stmt_);
            throw std::runtime_error(std::string("localnet: sqlite prepare failed: ") + sqlite3_errmsg(db));
        }
    }
    Stmt(StatementCache& cache, const char* sql) : db_(cache.db()), cache_(&cache) {
        stmt_ = cache.take(sql);
        if (!stmt_) throw std::runtime_error(std::string("localnet: sqlite prepare failed: ") + sqlite3_errmsg(db_));
    }
    ~Stmt() {
        if (cache_) cache_->give_back(stmt_);
        else sqlite3_finalize(stmt_);
    }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    Stmt& bind(int i, const std::string& s) {
        sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, ByteView b) {
        sqlite3_bind_blob64(stmt_, i, b.data(), b.size(), SQLITE_TRANSIENT);
        return *this;
    }
    /// true while a row is available.
    bool step() {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw std::runtime_error(std::string("localnet: sqlite step failed: ") + sqlite3_errmsg(db_));
    }
    void run() {
        while (step()) {
        }
    }
    std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
    std::string text(int col) const {
        auto p = sqlite3_column_text(stmt_, col);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                 : std::string();
    }
    Bytes blob(int col) const {
        auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
        auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col));
        return p ? Bytes(p, p + n) : Bytes();
    }
    std::size_t bytes(int col) const { return static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)); }

private:
    sqlite3* db_;
    StatementCache* cache_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
};

/// BEGIN on construction; ROLLBACK unless commit() ran. With a StatementCache, BEGIN and COMMIT are
/// its kept statements (a node stores every message in a transaction of its own: preparing the two
/// each time was 2 % of a broadcast benchmark's CPU).
class Transaction {
public:
    explicit Transaction(sqlite3* db) : db_(db) { exec(db_, "BEGIN"); }
    explicit Transaction(StatementCache& cache) : db_(cache.db()), cache_(&cache) { Stmt(cache, "BEGIN").run(); }
    ~Transaction() {
        if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        if (cache_) Stmt(*cache_, "COMMIT").run();
        else exec(db_, "COMMIT");
        done_ = true;
    }

private:
    sqlite3* db_;
    StatementCache* cache_ = nullptr;
    bool done_ = false;
};

}  // namespace session::localnet::detail

// sqlite.cpp: see sqlite.hpp.
#include "localnet/sqlite.hpp"

namespace session::localnet::detail {

Database open_database(const std::string& path) {
    const std::string where = path.empty() ? std::string(":memory:") : path;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(where.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    Database db{raw};  // sqlite3_open_v2 may hand back a handle even when it fails: close it too
    if (rc != SQLITE_OK) throw std::runtime_error("localnet: cannot open SQLite database " + where);
    if (!path.empty()) {
        exec(db.get(), "PRAGMA journal_mode=WAL");
        exec(db.get(), "PRAGMA synchronous=NORMAL");
    }
    return db;
}

void exec(sqlite3* db, const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown";
        sqlite3_free(err);
        throw std::runtime_error("localnet: sqlite: " + msg);
    }
}

}  // namespace session::localnet::detail

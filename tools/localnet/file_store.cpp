// file_store.cpp: the file server's files in SQLite (session-file-server keeps them in PostgreSQL:
// files(id, data, uploaded, expiry); the same columns here plus the upload's file name).
#include "localnet/internal.hpp"
#include "localnet/sqlite.hpp"

namespace session::localnet::detail {

struct FileStore::Db {
    Database handle;
};

FileStore::FileStore(const std::string& path) : db_(std::make_unique<Db>()) {
    db_->handle = open_database(path);
    exec(db_->handle.get(),
         "CREATE TABLE IF NOT EXISTS files ("
         " id TEXT PRIMARY KEY,"
         " data BLOB NOT NULL,"
         " filename TEXT NOT NULL DEFAULT '',"
         " uploaded INTEGER NOT NULL,"
         " expiry INTEGER NOT NULL);"
         "CREATE INDEX IF NOT EXISTS files_expiry ON files(expiry);");
}

FileStore::~FileStore() = default;

FileMeta FileStore::put(const std::string& id, ByteView data, const std::string& filename, std::int64_t now,
                        std::int64_t expiry) {
    std::lock_guard lock(mutex_);
    sqlite3* db = db_->handle.get();
    Transaction tx(db);
    {
        // A live or expired row with this id holds these very bytes (the id is their hash).
        Stmt upd(db, "UPDATE files SET uploaded = ?, expiry = ? WHERE id = ?");
        upd.bind(1, now).bind(2, expiry).bind(3, id).run();
    }
    if (sqlite3_changes(db) == 0) {
        Stmt ins(db, "INSERT INTO files (id, data, filename, uploaded, expiry) VALUES (?, ?, ?, ?, ?)");
        ins.bind(1, id).bind(2, data).bind(3, filename).bind(4, now).bind(5, expiry).run();
    }
    tx.commit();
    return FileMeta{data.size(), now, expiry};
}

std::optional<FileStore::File> FileStore::get(const std::string& id, std::int64_t now) {
    std::lock_guard lock(mutex_);
    Stmt sel(db_->handle.get(), "SELECT data, filename FROM files WHERE id = ? AND expiry > ?");
    sel.bind(1, id).bind(2, now);
    if (!sel.step()) return std::nullopt;
    return File{sel.blob(0), sel.text(1)};
}

std::optional<FileMeta> FileStore::info(const std::string& id, std::int64_t now) {
    std::lock_guard lock(mutex_);
    Stmt sel(db_->handle.get(), "SELECT length(data), uploaded, expiry FROM files WHERE id = ? AND expiry > ?");
    sel.bind(1, id).bind(2, now);
    if (!sel.step()) return std::nullopt;
    return FileMeta{static_cast<std::uint64_t>(sel.i64(0)), sel.i64(1), sel.i64(2)};
}

std::optional<FileMeta> FileStore::extend(const std::string& id, std::int64_t now, std::int64_t expiry) {
    std::lock_guard lock(mutex_);
    sqlite3* db = db_->handle.get();
    Stmt upd(db, "UPDATE files SET expiry = ? WHERE id = ? AND expiry > ?");
    upd.bind(1, expiry).bind(2, id).bind(3, now).run();
    if (sqlite3_changes(db) == 0) return std::nullopt;
    Stmt sel(db, "SELECT length(data), uploaded, expiry FROM files WHERE id = ?");
    sel.bind(1, id);
    if (!sel.step()) return std::nullopt;
    return FileMeta{static_cast<std::uint64_t>(sel.i64(0)), sel.i64(1), sel.i64(2)};
}

std::size_t FileStore::purge_expired(std::int64_t now) {
    std::lock_guard lock(mutex_);
    Stmt del(db_->handle.get(), "DELETE FROM files WHERE expiry <= ?");
    del.bind(1, now).run();
    return static_cast<std::size_t>(sqlite3_changes(db_->handle.get()));
}

std::size_t FileStore::count() {
    std::lock_guard lock(mutex_);
    Stmt sel(db_->handle.get(), "SELECT COUNT(*) FROM files");
    return sel.step() ? static_cast<std::size_t>(sel.i64(0)) : 0;
}

}  // namespace session::localnet::detail

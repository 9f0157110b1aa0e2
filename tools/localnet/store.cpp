// store.cpp: one node's messages in SQLite, with the storage server's semantics
// (oxenss/storage/database.cpp as described in storage-server.md §5.3-§5.10, §6.5):
// insertion order = row id, hashes unique per node, duplicates only extend the expiry.
#include <algorithm>
#include <cstring>

#include "localnet/internal.hpp"
#include "localnet/sqlite.hpp"

namespace session::localnet::detail {

struct MessageStore::Db {
    Database handle;
    std::optional<StatementCache> stmts;  // over `handle`; emptied before it closes
    ~Db() { stmts.reset(); }
};

namespace {

StoredMessage row_message(const Stmt& s, int first_col) {
    // Columns: owner, hash, namespace, timestamp, expiry, data
    StoredMessage m;
    Bytes owner = s.blob(first_col);
    if (owner.size() == 33) {
        m.account.prefix = owner[0];
        std::copy(owner.begin() + 1, owner.end(), m.account.key.begin());
    }
    m.hash = s.text(first_col + 1);
    m.ns = static_cast<int>(s.i64(first_col + 2));
    m.timestamp = s.i64(first_col + 3);
    m.expiry = s.i64(first_col + 4);
    m.data = s.blob(first_col + 5);
    return m;
}

}  // namespace

MessageStore::MessageStore(const std::string& path) : db_(std::make_unique<Db>()) {
    db_->handle = open_database(path);
    db_->stmts.emplace(db_->handle.get());
    exec(db_->handle.get(),
         "CREATE TABLE IF NOT EXISTS messages ("
         // No AUTOINCREMENT (a second table written on every insert): a new id is still above every
         // stored one, which is all the retrieve cursor needs (it is a stored message's id).
         " id INTEGER PRIMARY KEY,"
         " hash TEXT NOT NULL UNIQUE,"
         " owner BLOB NOT NULL,"
         " namespace INTEGER NOT NULL,"
         " timestamp INTEGER NOT NULL,"
         " expiry INTEGER NOT NULL,"
         " data BLOB NOT NULL);"
         "CREATE INDEX IF NOT EXISTS messages_owner ON messages(owner, namespace, id);"
         "CREATE INDEX IF NOT EXISTS messages_expiry ON messages(expiry);"
         "CREATE TABLE IF NOT EXISTS revoked_subaccounts ("
         " id INTEGER PRIMARY KEY AUTOINCREMENT,"
         " owner BLOB NOT NULL,"
         " token BLOB NOT NULL,"
         " UNIQUE(owner, token));");
}

MessageStore::~MessageStore() = default;

namespace {
// Inserts `m` unless its hash is stored already; whether it did.
bool insert_if_new(StatementCache& stmts, const StoredMessage& m) {
    const auto owner = m.account.bytes();
    Stmt ins(stmts, "INSERT OR IGNORE INTO messages (hash, owner, namespace, timestamp, expiry, data)"
                    " VALUES (?, ?, ?, ?, ?, ?)");
    ins.bind(1, m.hash).bind(2, ByteView(owner)).bind(3, m.ns).bind(4, m.timestamp).bind(5, m.expiry).bind(6, ByteView(m.data));
    ins.run();
    return sqlite3_changes(stmts.db()) == 1;
}
}  // namespace

MessageStore::StoreOutcome MessageStore::store(const StoredMessage& m, bool public_outbox) {
    std::lock_guard lock(mutex_);
    auto owner = m.account.bytes();
    StoreOutcome out{true, m.expiry};
    // The usual case, a new message: one statement, atomic by itself. Only a known hash (nothing
    // inserted) needs the lookup and the expiry update, in one transaction.
    if (!public_outbox && insert_if_new(*db_->stmts, m)) return out;
    Transaction tx(*db_->stmts);
    {
        Stmt find(*db_->stmts, "SELECT expiry FROM messages WHERE hash = ?");
        find.bind(1, m.hash);
        if (find.step()) {
            out.is_new = false;
            out.expiry = std::max(find.i64(0), m.expiry);
            Stmt upd(*db_->stmts, "UPDATE messages SET expiry = ? WHERE hash = ?");
            upd.bind(1, out.expiry).bind(2, m.hash).run();
            tx.commit();
            return out;
        }
    }
    if (!public_outbox) throw std::runtime_error("localnet: store: a message was neither inserted nor found");
    Stmt del(*db_->stmts, "DELETE FROM messages WHERE owner = ? AND namespace = ?");
    del.bind(1, ByteView(owner)).bind(2, m.ns).run();
    if (!insert_if_new(*db_->stmts, m)) throw std::runtime_error("localnet: store: a new message was not inserted");
    tx.commit();
    return out;
}

MessageStore::Page MessageStore::retrieve(const Account& a, int ns, const std::string& last_hash,
                                          std::optional<std::int64_t> max_count, std::int64_t max_size) {
    std::lock_guard lock(mutex_);
    auto owner = a.bytes();
    std::int64_t after = 0;
    if (!last_hash.empty()) {
        Stmt find(*db_->stmts, "SELECT id FROM messages WHERE hash = ? AND owner = ? AND namespace = ?");
        find.bind(1, last_hash).bind(2, ByteView(owner)).bind(3, ns);
        if (find.step()) after = find.i64(0);
    }
    Stmt sel(*db_->stmts,
             "SELECT owner, hash, namespace, timestamp, expiry, data FROM messages"
             " WHERE owner = ? AND namespace = ? AND id > ? ORDER BY id");
    sel.bind(1, ByteView(owner)).bind(2, ns).bind(3, after);
    Page page;
    std::int64_t total = 0;
    while (sel.step()) {
        // Size accounting as if base64 (storage-server.md §5.4): 100 + len(hash) + len(data)·4/3.
        const std::int64_t size = 100 + static_cast<std::int64_t>(sel.bytes(1)) +
                                  static_cast<std::int64_t>(sel.bytes(5)) * 4 / 3;
        if (!page.messages.empty() &&
            ((max_count && static_cast<std::int64_t>(page.messages.size()) >= *max_count) || total + size > max_size)) {
            page.more = true;
            break;
        }
        total += size;
        page.messages.push_back(row_message(sel, 0));
    }
    return page;
}

std::vector<std::string> MessageStore::delete_hashes(const Account& a, const std::vector<std::string>& hashes) {
    std::lock_guard lock(mutex_);
    auto owner = a.bytes();
    Transaction tx(*db_->stmts);
    std::vector<std::string> deleted;
    for (const auto& h : hashes) {
        Stmt del(*db_->stmts, "DELETE FROM messages WHERE owner = ? AND hash = ?");
        del.bind(1, ByteView(owner)).bind(2, h).run();
        if (sqlite3_changes(db_->handle.get()) > 0 && std::find(deleted.begin(), deleted.end(), h) == deleted.end())
            deleted.push_back(h);
    }
    tx.commit();
    return deleted;
}

std::vector<std::pair<int, std::string>> MessageStore::delete_all(const Account& a, std::optional<int> ns,
                                                                   std::optional<std::int64_t> before) {
    std::lock_guard lock(mutex_);
    auto owner = a.bytes();
    Transaction tx(*db_->stmts);
    std::string where = "owner = ?1";
    if (ns) where += " AND namespace = ?2";
    if (before) where += " AND timestamp <= ?3";
    std::vector<std::pair<int, std::string>> out;
    {
        Stmt sel(*db_->stmts, ("SELECT namespace, hash FROM messages WHERE " + where).c_str());
        sel.bind(1, ByteView(owner));
        if (ns) sel.bind(2, *ns);
        if (before) sel.bind(3, *before);
        while (sel.step()) out.emplace_back(static_cast<int>(sel.i64(0)), sel.text(1));
    }
    Stmt del(*db_->stmts, ("DELETE FROM messages WHERE " + where).c_str());
    del.bind(1, ByteView(owner));
    if (ns) del.bind(2, *ns);
    if (before) del.bind(3, *before);
    del.run();
    tx.commit();
    return out;
}

std::vector<std::pair<int, std::string>> MessageStore::expire_all(const Account& a, std::optional<int> ns,
                                                                   std::int64_t expiry) {
    std::lock_guard lock(mutex_);
    auto owner = a.bytes();
    Transaction tx(*db_->stmts);
    std::string where = "owner = ?1 AND expiry > ?3";
    if (ns) where += " AND namespace = ?2";
    std::vector<std::pair<int, std::string>> out;
    {
        Stmt sel(*db_->stmts, ("SELECT namespace, hash FROM messages WHERE " + where).c_str());
        sel.bind(1, ByteView(owner)).bind(3, expiry);
        if (ns) sel.bind(2, *ns);
        while (sel.step()) out.emplace_back(static_cast<int>(sel.i64(0)), sel.text(1));
    }
    Stmt upd(*db_->stmts, ("UPDATE messages SET expiry = ?3 WHERE " + where).c_str());
    upd.bind(1, ByteView(owner)).bind(3, expiry);
    if (ns) upd.bind(2, *ns);
    upd.run();
    tx.commit();
    return out;
}

MessageStore::ExpireOutcome MessageStore::expire(const Account& a, const std::vector<std::string>& hashes,
                                                 const std::vector<std::int64_t>& expiries, ExpireMode mode) {
    std::lock_guard lock(mutex_);
    auto owner = a.bytes();
    Transaction tx(*db_->stmts);
    ExpireOutcome out;
    for (std::size_t i = 0; i < hashes.size(); ++i) {
        const auto& h = hashes[i];
        const std::int64_t want = expiries.size() == 1 ? expiries[0] : expiries.at(i);
        Stmt find(*db_->stmts, "SELECT expiry FROM messages WHERE owner = ? AND hash = ?");
        find.bind(1, ByteView(owner)).bind(2, h);
        if (!find.step()) continue;
        const std::int64_t current = find.i64(0);
        bool change = mode == ExpireMode::set || (mode == ExpireMode::extend && current < want) ||
                      (mode == ExpireMode::shorten && current > want);
        bool seen = std::any_of(out.updated.begin(), out.updated.end(), [&](auto& p) { return p.first == h; });
        if (seen) continue;
        if (change) {
            Stmt upd(*db_->stmts, "UPDATE messages SET expiry = ? WHERE owner = ? AND hash = ?");
            upd.bind(1, want).bind(2, ByteView(owner)).bind(3, h).run();
            out.updated.emplace_back(h, want);
            out.unchanged.erase(h);
        } else {
            out.unchanged[h] = current;
        }
    }
    tx.commit();
    return out;
}

std::map<std::string, std::int64_t> MessageStore::get_expiries(const Account& a, const std::vector<std::string>& hashes) {
    std::lock_guard lock(mutex_);
    auto owner = a.bytes();
    std::map<std::string, std::int64_t> out;
    for (const auto& h : hashes) {
        Stmt find(*db_->stmts, "SELECT expiry FROM messages WHERE owner = ? AND hash = ?");
        find.bind(1, ByteView(owner)).bind(2, h);
        if (find.step()) out[h] = find.i64(0);
    }
    return out;
}

std::size_t MessageStore::purge_expired(std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    Stmt del(*db_->stmts, "DELETE FROM messages WHERE expiry < ?");
    del.bind(1, now_ms).run();
    return static_cast<std::size_t>(sqlite3_changes(db_->handle.get()));
}

std::vector<StoredMessage> MessageStore::messages_for_key(const ByteArray<32>& key) {
    std::lock_guard lock(mutex_);
    Stmt sel(*db_->stmts,
             "SELECT owner, hash, namespace, timestamp, expiry, data FROM messages"
             " WHERE substr(owner, 2) = ? ORDER BY id");
    sel.bind(1, ByteView(key));
    std::vector<StoredMessage> out;
    while (sel.step()) out.push_back(row_message(sel, 0));
    return out;
}

void MessageStore::insert_ignore(const StoredMessage& m) {
    std::lock_guard lock(mutex_);
    insert_if_new(*db_->stmts, m);
}

void MessageStore::revoke(const Account& a, const std::vector<ByteArray<36>>& tokens) {
    std::lock_guard lock(mutex_);
    auto owner = a.bytes();
    Transaction tx(*db_->stmts);
    for (const auto& t : tokens) {
        Stmt ins(*db_->stmts, "INSERT OR REPLACE INTO revoked_subaccounts (owner, token) VALUES (?, ?)");
        ins.bind(1, ByteView(owner)).bind(2, ByteView(t)).run();
    }
    Stmt trim(*db_->stmts,
              "DELETE FROM revoked_subaccounts WHERE owner = ?1 AND id NOT IN"
              " (SELECT id FROM revoked_subaccounts WHERE owner = ?1 ORDER BY id DESC LIMIT 50)");
    trim.bind(1, ByteView(owner)).run();
    tx.commit();
}

std::size_t MessageStore::unrevoke(const Account& a, const std::vector<ByteArray<36>>& tokens) {
    std::lock_guard lock(mutex_);
    auto owner = a.bytes();
    std::size_t count = 0;
    for (const auto& t : tokens) {
        Stmt del(*db_->stmts, "DELETE FROM revoked_subaccounts WHERE owner = ? AND token = ?");
        del.bind(1, ByteView(owner)).bind(2, ByteView(t)).run();
        count += static_cast<std::size_t>(sqlite3_changes(db_->handle.get()));
    }
    return count;
}

bool MessageStore::is_revoked(const Account& a, const ByteArray<36>& token) {
    std::lock_guard lock(mutex_);
    auto owner = a.bytes();
    Stmt sel(*db_->stmts, "SELECT 1 FROM revoked_subaccounts WHERE owner = ? AND token = ?");
    sel.bind(1, ByteView(owner)).bind(2, ByteView(token));
    return sel.step();
}

void MessageStore::delete_for_key(const ByteArray<32>& key) {
    std::lock_guard lock(mutex_);
    Stmt del(*db_->stmts, "DELETE FROM messages WHERE substr(owner, 2) = ?");
    del.bind(1, ByteView(key)).run();
}

std::size_t MessageStore::count() {
    std::lock_guard lock(mutex_);
    Stmt sel(*db_->stmts, "SELECT COUNT(*) FROM messages");
    sel.step();
    return static_cast<std::size_t>(sel.i64(0));
}

}  // namespace session::localnet::detail

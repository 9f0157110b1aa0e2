#include "detail/receive_state.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

using namespace session;
namespace fs = std::filesystem;

namespace {

std::string hash(char c) { return std::string(42, c) + "A"; }

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("session-state-test-" + std::to_string(::getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::trunc);
    out << text;
}

detail::ReceiveState sample() {
    detail::ReceiveState st;
    st.account = "05" + std::string(64, 'a');
    st.next_seq = 4;
    st.delivered = {{hash('a'), 1, 1700000000000}, {hash('b'), 3, 1700000000001}};
    Ed25519PublicKey one, two;
    one.bytes.fill(0x11);
    two.bytes.fill(0x22);
    st.cursors = {{hash('b'), "", {{{one, hash('b')}, {two, hash('a')}}}}};
    st.signed_messages = {{SessionId::of(X25519PublicKey{ByteArray<32>{7}}), 1700000000123, hash('a')}};
    return st;
}

}  // namespace

TEST_CASE("receive_state: save then load gives the same state; a missing file is a first run", "[receive_state]") {
    TempDir dir;
    const auto file = (dir.path / "s.json").string();
    auto none = detail::load_receive_state(file);
    REQUIRE(none);
    CHECK_FALSE(*none);

    const auto st = sample();
    REQUIRE(detail::save_receive_state(file, st));
    CHECK_FALSE(fs::exists(file + ".tmp"));
    CHECK((fs::status(file).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
    auto back = detail::load_receive_state(file);
    REQUIRE(back);
    REQUIRE(*back);
    const auto& b = **back;
    CHECK(b.account == st.account);
    CHECK(b.next_seq == 4);
    REQUIRE(b.delivered.size() == 2);
    CHECK(b.delivered[1].hash == hash('b'));
    CHECK(b.delivered[1].seq == 3);
    CHECK(b.delivered[1].expiry_ms == 1700000000001);
    REQUIRE(b.cursors.size() == 1);
    CHECK(b.cursors[0].last_hash == hash('b'));
    CHECK(b.cursors[0].nodes == st.cursors[0].nodes);
    // Member keys are spelled as 64 lowercase hex digits on disk.
    CHECK(detail::dump_receive_state(st).find("\"" + std::string(64, '1') + "\":\"" + hash('b') + "\"") !=
          std::string::npos);

    REQUIRE(b.signed_messages.size() == 1);
    CHECK(b.signed_messages[0].sender == st.signed_messages[0].sender);
    CHECK(b.signed_messages[0].signed_ms == 1700000000123);
    CHECK(b.signed_messages[0].hash == hash('a'));

    // Saving again replaces the whole file.
    auto smaller = st;
    smaller.delivered.pop_back();
    REQUIRE(detail::save_receive_state(file, smaller));
    auto again = detail::load_receive_state(file);
    REQUIRE(again);
    CHECK((*again)->delivered.size() == 1);
}

TEST_CASE("receive_state: a file written before replays were tracked still loads", "[receive_state]") {
    const std::string text = "{\"version\":1,\"account\":\"05" + std::string(64, 'a') +
                             "\",\"next_seq\":2,\"latest\":\"" + hash('a') + "\",\"delivered\":[[\"" + hash('a') +
                             "\",1,1700000000000]],\"cursors\":[]}";
    auto st = detail::parse_receive_state(text, "old.json");
    REQUIRE(st);
    CHECK(st->signed_messages.empty());
    CHECK(st->delivered.size() == 1);
    CHECK(st->latest == hash('a'));
}

TEST_CASE("receive_state: a damaged file is refused with what is wrong", "[receive_state][reject]") {
    TempDir dir;
    const auto file = dir.path / "s.json";
    const std::string mark = "\"format\":\"session-client receive state\",";
    const std::string acct = "\"account\":\"05" + std::string(64, 'a') + "\"";
    struct Case {
        std::string text;
        const char* expect;
    };
    const Case cases[] = {
        {"{" + mark + "\"version\":1", "not JSON"},  // truncated, but clearly ours
        {"{\"account\":\"05" + std::string(30, 'a'), "not JSON"},  // written before the marker, truncated
        {"{" + mark + "\"version\":2}", "version: expected 1"},
        {"{" + mark + "\"version\":1,\"next_seq\":1}", "account:"},
        {"{\"version\":1," + acct + ",\"next_seq\":-1}", "next_seq:"},  // before the marker existed
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":{}}", "delivered: expected an array"},
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":[[\"" + hash('a') + "\",1]]}", "delivered[0]: expected"},
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":[[\"x\",1,0]]}", "delivered[0]: hash"},
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":[[\"" + hash('a') + "\",2,0],[\"" + hash('b') +
             "\",2,0]]}",
         "delivered[1]: seq 2 out of order"},
        {"{\"version\":1," + acct + ",\"next_seq\":2,\"delivered\":[[\"" + hash('a') + "\",2,0]]}", "seq 2 out of order"},
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":[],\"cursors\":[{\"last_hash\":\"x\",\"base\":\"\","
                                   "\"nodes\":{}}]}",
         "cursors[0].last_hash"},
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":[],\"cursors\":[{\"last_hash\":\"" + hash('a') +
             "\",\"base\":\"\",\"nodes\":{\"zz\":\"" + hash('a') + "\"}}]}",
         "cursors[0].nodes: expected 64-hex"},
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":[],\"cursors\":[],\"signed\":{}}", "signed: expected an array"},
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":[],\"cursors\":[],\"signed\":[[\"05\",1,\"" + hash('a') + "\"]]}",
         "signed[0]: sender"},
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":[],\"cursors\":[],\"signed\":[[\"05" + std::string(64, 'b') + "\",\"1\",\"" +
             hash('a') + "\"]]}",
         "signed[0]: expected [sender, signed_ms, hash]"},
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":[],\"cursors\":[],\"signed\":[[\"05" + std::string(64, 'b') +
             "\",1,\"short\"]]}",
         "signed[0]: hash"},
        {"{\"version\":1," + acct + ",\"next_seq\":3,\"delivered\":[],\"cursors\":[],\"signed\":[[\"05" + std::string(64, 'b') +
             "\",18446744073709551615,\"" + hash('a') + "\"]]}",
         "signed[0]: expected"},
        {"{\"format\":\"session-client receive state\",\"version\":1," + acct + ",\"x\":" + std::string(100'000, '[') +
             std::string(100'000, ']') + "}",
         "nested deeper than 64 levels"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        write(file, c.text);
        auto r = detail::load_receive_state(file.string());
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
        INFO(r.error().message);
        CHECK(r.error().message.find(c.expect) != std::string::npos);
        CHECK(r.error().message.find(file.string()) != std::string::npos);
        // Ours, so deleting it is the way out.
        CHECK(r.error().message.find("delete it to start over") != std::string::npos);
    }
}

TEST_CASE("receive_state: somebody else's file is refused without advice to delete it", "[receive_state][reject]") {
    TempDir dir;
    const auto file = dir.path / "README.md";
    for (const std::string& text : {std::string("# A project\n\nNot JSON at all.\n"), std::string("[1, 2, 3]"),
                                    std::string("{\"name\": \"package\", \"version\": 1}"),
                                    std::string("{\"format\": \"something else\", \"version\": 1, \"account\": \"05\"}")}) {
        INFO(text);
        write(file, text);
        auto r = detail::load_receive_state(file.string());
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
        INFO(r.error().message);
        CHECK(r.error().message.find("not a session-client state file") != std::string::npos);
        CHECK(r.error().message.find(file.string()) != std::string::npos);
        CHECK(r.error().message.find("delete") == std::string::npos);
    }
}

TEST_CASE("receive_state: an empty file is a first run; what is written carries the format marker", "[receive_state]") {
    TempDir dir;
    const auto file = (dir.path / "s.json").string();
    write(file, "");
    auto none = detail::load_receive_state(file);
    REQUIRE(none);
    CHECK_FALSE(*none);
    CHECK(detail::dump_receive_state(sample()).find("\"format\":\"session-client receive state\"") != std::string::npos);
    // A file written before the marker existed still loads.
    auto st = sample();
    write(file, "{\"account\":\"" + st.account + "\",\"next_seq\":2,\"version\":1,\"delivered\":[[\"" + hash('a') +
                    "\",1,5]],\"cursors\":[]}");
    auto old = detail::load_receive_state(file);
    REQUIRE(old);
    REQUIRE(*old);
    CHECK((*old)->delivered.size() == 1);
}

TEST_CASE("receive_state: only a regular file within the size cap is read", "[receive_state][reject]") {
    TempDir dir;
    const auto fifo = dir.path / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    for (const std::string& path : {dir.path.string(), std::string("/dev/zero"), std::string("/dev/full"), fifo.string()}) {
        INFO(path);
        auto r = detail::load_receive_state(path);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
        CHECK(r.error().message.find("expected a regular file") != std::string::npos);
        CHECK(r.error().message.find("delete") == std::string::npos);
        // Refused before a lock file is created beside it.
        auto lock = detail::StateLock::acquire(path);
        REQUIRE_FALSE(lock);
        CHECK(lock.error().code == Errc::invalid_argument);
        CHECK(lock.error().message.find("expected a regular file") != std::string::npos);
        CHECK_FALSE(fs::exists(path + ".lock"));
    }
    // One byte over the cap (a sparse file: no disk used) is refused before reading.
    const auto big = dir.path / "big.state";
    { std::ofstream touch(big); }
    fs::resize_file(big, detail::kMaxStateFileBytes + 1);
    auto r = detail::load_receive_state(big.string());
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("larger than the limit of " + std::to_string(detail::kMaxStateFileBytes)) !=
          std::string::npos);
    auto lock = detail::StateLock::acquire(big.string());
    REQUIRE_FALSE(lock);
    CHECK_FALSE(fs::exists(big.string() + ".lock"));
}

TEST_CASE("receive_state: save writes through no planted symbolic link and replaces its own leftover",
          "[receive_state][reject]") {
    TempDir dir;
    const auto file = (dir.path / "s.json").string();
    const auto victim = dir.path / "victim";
    write(victim, "precious");
    fs::create_symlink(victim, file + ".tmp");
    auto r = detail::save_receive_state(file, sample());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::io_error);
    CHECK(r.error().message.find("symbolic link") != std::string::npos);
    std::ifstream in(victim);
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "precious");
    CHECK_FALSE(fs::exists(file));

    fs::remove(file + ".tmp");
    write(file + ".tmp", "half a state from a crash");
    REQUIRE(detail::save_receive_state(file, sample()));
    CHECK_FALSE(fs::exists(file + ".tmp"));
    auto back = detail::load_receive_state(file);
    REQUIRE(back);
    CHECK(*back);
}

TEST_CASE("receive_state: an unwritable place is an io_error naming the path", "[receive_state][reject]") {
    TempDir dir;
    const auto file = (dir.path / "missing" / "s.json").string();
    auto r = detail::save_receive_state(file, sample());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::io_error);
    CHECK(r.error().message.find(file) != std::string::npos);
    auto dir_as_file = detail::load_receive_state(dir.path.string());
    REQUIRE_FALSE(dir_as_file);  // a directory is not a state file
}

TEST_CASE("receive_state: one holder of a state file at a time", "[receive_state]") {
    TempDir dir;
    const auto file = (dir.path / "s.json").string();
    {
        auto first = detail::StateLock::acquire(file);
        REQUIRE(first);
        CHECK(fs::exists(file + ".lock"));
        auto second = detail::StateLock::acquire(file);  // another open file description: refused
        REQUIRE_FALSE(second);
        CHECK(second.error().code == Errc::invalid_argument);
        CHECK(second.error().message.find("in use by another Client") != std::string::npos);
        CHECK(fs::exists(file + ".lock"));  // the refused one removed nothing
        auto moved = std::move(*first);  // moving keeps the lock
        CHECK_FALSE(detail::StateLock::acquire(file));
    }
    CHECK_FALSE(fs::exists(file + ".lock"));  // removed with its holder
    CHECK(detail::StateLock::acquire(file));  // and free again
    CHECK_FALSE(fs::exists(file + ".lock"));
    auto nowhere = detail::StateLock::acquire((dir.path / "missing" / "s.json").string());
    REQUIRE_FALSE(nowhere);
    CHECK(nowhere.error().code == Errc::io_error);
    CHECK_FALSE(fs::exists(dir.path / "missing"));
}

TEST_CASE("receive_state: a lock on a lock file that lost its name does not count", "[receive_state]") {
    // The race that makes removing lock files dangerous, played step by step: B opens the lock
    // file, A (the holder) removes it and releases, B's flock then succeeds on the orphan. B must
    // not believe it holds the lock, or C, creating a new lock file, would hold it too.
    TempDir dir;
    const auto file = (dir.path / "s.json").string();
    const auto lock_path = file + ".lock";
    auto a = std::make_unique<detail::StateLock>(std::move(*detail::StateLock::acquire(file)));
    const int b_fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);  // B's open, before A releases
    REQUIRE(b_fd >= 0);
    a.reset();  // A: unlink, then release
    CHECK_FALSE(fs::exists(lock_path));
    CHECK(::flock(b_fd, LOCK_EX | LOCK_NB) == 0);  // B wins a lock on the orphan...
    auto c = detail::StateLock::acquire(file);     // ...which does not stop C, correctly:
    REQUIRE(c);                                    // acquire() demands that the name be the locked file
    CHECK(fs::exists(lock_path));
    CHECK_FALSE(detail::StateLock::acquire(file));  // and C's lock is exclusive
    ::close(b_fd);
}

TEST_CASE("receive_state: remove_lock_files_before_exit removes the names of held locks only", "[receive_state]") {
    TempDir dir;
    const auto file = (dir.path / "s.json").string();
    auto held = detail::StateLock::acquire(file);
    REQUIRE(held);
    write(dir.path / "other.json.lock", "");  // not ours
    detail::StateLock::remove_lock_files_before_exit();
    CHECK_FALSE(fs::exists(file + ".lock"));
    CHECK(fs::exists(dir.path / "other.json.lock"));
}

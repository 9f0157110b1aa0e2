#include "detail/file_read.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace session;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("session-file-read-test-" + std::to_string(::getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

fs::path write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    return p;
}

constexpr detail::ReadRules kSmall{.max_bytes = 16};

}  // namespace

TEST_CASE("file_read: a regular file within the cap is read whole", "[file_read]") {
    TempDir dir;
    const auto f = write(dir.path / "a.txt", "hello\nworld");
    auto text = detail::read_file(f.string(), kSmall, "test file");
    REQUIRE(text);
    CHECK(*text == "hello\nworld");
    auto exact = detail::read_file(write(dir.path / "b", std::string(16, 'x')).string(), kSmall, "test file");
    REQUIRE(exact);
    CHECK(exact->size() == 16);
    auto empty = detail::read_file(write(dir.path / "c", "").string(), kSmall, "test file");
    REQUIRE(empty);
    CHECK(empty->empty());
}

TEST_CASE("file_read: a file over the cap is refused before reading, naming file and limit", "[file_read][reject]") {
    TempDir dir;
    const auto f = write(dir.path / "big", std::string(17, 'x'));
    auto r = detail::read_file(f.string(), kSmall, "test file");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_argument);
    CHECK(r.error().message == "test file " + f.string() + ": is larger than the limit of 16 bytes (17 bytes)");
    CHECK_FALSE(detail::check_input_file(f.string(), kSmall, "test file"));
}

TEST_CASE("file_read: directories, devices and FIFOs are refused at once", "[file_read][reject]") {
    TempDir dir;
    struct Case {
        std::string path;
        const char* says;
    };
    const auto fifo = dir.path / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    for (const auto& c : {Case{dir.path.string(), "is a directory; expected a regular file"},
                          Case{"/dev/zero", "is a character device; expected a regular file"},
                          Case{"/dev/full", "is a character device; expected a regular file"},
                          Case{"/dev/null", "is a character device; expected a regular file"},
                          // Nobody writes to this FIFO: the open must not wait for a writer.
                          Case{fifo.string(), "is a FIFO (named pipe); expected a regular file"}}) {
        INFO(c.path);
        auto r = detail::read_file(c.path, {.max_bytes = 1 << 20}, "state file");
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::invalid_argument);
        CHECK(r.error().message == "state file " + c.path + ": " + c.says);
        CHECK(r.error().message.find("delete") == std::string::npos);
        auto checked = detail::check_input_file(c.path, {.max_bytes = 1 << 20}, "state file");
        REQUIRE_FALSE(checked);
        CHECK(checked.error().message == r.error().message);
    }
}

TEST_CASE("file_read: a pipe is read to its end where the rule allows it, still capped", "[file_read]") {
    TempDir dir;
    const auto fifo = dir.path / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const detail::ReadRules rules{.max_bytes = 16, .allow_pipe = true};
    SECTION("within the cap") {
        std::thread writer([&] { std::ofstream(fifo) << "from a pipe"; });
        auto r = detail::read_file(fifo.string(), rules, "--phrase-file");
        writer.join();
        REQUIRE(r);
        CHECK(*r == "from a pipe");
    }
    SECTION("over the cap: refused while reading") {
        std::thread writer([&] { std::ofstream(fifo) << std::string(100, 'x'); });
        auto r = detail::read_file(fifo.string(), rules, "--phrase-file");
        // The writer may be blocked on a full pipe no more: opening for reading unblocked it, and
        // 100 bytes fit in any pipe buffer.
        writer.join();
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "--phrase-file " + fifo.string() + ": is larger than the limit of 16 bytes");
    }
    SECTION("a directory is still refused") {
        auto r = detail::read_file(dir.path.string(), rules, "--phrase-file");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("expected a regular file or a pipe") != std::string::npos);
    }
}

TEST_CASE("file_read: a missing file is io_error, or nullopt when asked", "[file_read]") {
    TempDir dir;
    const auto missing = (dir.path / "none").string();
    auto r = detail::read_file(missing, kSmall, "network file");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::io_error);
    CHECK(r.error().message == "network file " + missing + ": cannot open: No such file or directory");
    auto maybe = detail::read_file_if_exists(missing, kSmall, "network file");
    REQUIRE(maybe);
    CHECK_FALSE(*maybe);
    auto present = detail::read_file_if_exists(write(dir.path / "x", "x").string(), kSmall, "network file");
    REQUIRE(present);
    REQUIRE(*present);
    CHECK(**present == "x");
    // A directory is not "missing": it is refused.
    CHECK_FALSE(detail::read_file_if_exists(dir.path.string(), kSmall, "network file"));
    CHECK_FALSE(detail::read_file("", kSmall, "network file"));
}

TEST_CASE("file_read: InputFile hands chunks to a sink, for reading into wiping memory", "[file_read]") {
    TempDir dir;
    const std::string content(200'000, 'q');
    const auto f = write(dir.path / "chunks", content);
    auto file = detail::InputFile::open(f.string(), {.max_bytes = content.size()}, "test file");
    REQUIRE(file);
    std::string got;
    std::size_t chunks = 0;
    REQUIRE(file->read_all([&](std::string_view c) {
        got.append(c);
        ++chunks;
    }));
    CHECK(got == content);
    CHECK(chunks > 1);
    CHECK_THROWS_AS(file->read_all([](std::string_view) {}), std::logic_error);  // read once
    auto moved = detail::InputFile::open(f.string(), {.max_bytes = content.size()}, "test file");
    REQUIRE(moved);
    detail::InputFile other(std::move(*moved));
    CHECK(other.read_all([](std::string_view) {}));
}

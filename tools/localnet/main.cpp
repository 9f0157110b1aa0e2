// session-localnet: runs a local Session network (seeds + storage nodes on loopback, HTTPS) until
// SIGINT/SIGTERM. See tools/localnet/localnet.hpp for what it serves and the control protocol.
// The network file it writes (--network-file) is removed when it stops, so a stale file cannot
// send clients to a network that no longer runs.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "localnet/localnet.hpp"

namespace {

constexpr const char* kUsage =
    "usage: session-localnet [options]\n"
    "  --nodes N            storage nodes (default 10), on 127.0.0.2, 127.0.0.3, ...\n"
    "  --swarm-size N       nodes per swarm (default 5)\n"
    "  --seeds N            seed endpoints on 127.0.0.1 (default 1)\n"
    "  --port-base P        seeds on P.., nodes after them, then the control port (default: ephemeral)\n"
    "  --data-dir DIR       keep messages (SQLite) and node keys in DIR (default: in memory)\n"
    "  --network-file PATH  write the network description (JSON) once every endpoint listens;\n"
    "                       removed again when session-localnet stops\n"
    "  --control-port P     port of the control endpoint on 127.0.0.1 (default: ephemeral)\n"
    "  --no-control         do not serve the control endpoint\n"
    "  --relay-timeout-ms N onion relay timeout towards a silent node (default 30000)\n"
    "  --key-seed N         derive node keys and swarm ids from N (reproducible networks)\n"
    "  --distinct-subnets   node i on 127.(1+i/256).(i%256).1 (one /24 per node, for desktop-style paths)\n"
    "  --no-file-server     do not run the file server\n"
    "  --file-server-port P port of the file server on 127.0.0.1 (default: ephemeral, or after the control port)\n"
    "  --file-max-bytes N   largest file clients may send (default 10000000)\n"
    "  --file-expiry-s N    lifetime of an upload in seconds (default 1814400, 3 weeks)\n"
    "  --quiet              print nothing but errors\n"
    "  --help               this text\n";

// The network file this process wrote: removed at exit only if the path still names that very
// file (another session-localnet may have written its own there since).
struct WrittenFile {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;

    void remember(const std::string& p) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0) return;
        path = p;
        dev = st.st_dev;
        ino = st.st_ino;
    }
    ~WrittenFile() {
        struct stat st {};
        if (!path.empty() && ::lstat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino)
            ::unlink(path.c_str());
    }
};

bool parse_number(const char* s, unsigned long long max, unsigned long long& out) {
    if (!s || !*s) return false;
    char* end = nullptr;
    errno = 0;
    out = std::strtoull(s, &end, 10);
    return errno == 0 && *end == '\0' && out <= max && s[0] != '-';
}

}  // namespace

int main(int argc, char** argv) {
    using session::localnet::Network;
    session::localnet::Options opt;
    std::string network_file;
    bool quiet = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "session-localnet: %s needs a value\n%s", name, kUsage);
                std::exit(2);
            }
            return argv[++i];
        };
        auto number = [&](const char* name, unsigned long long max) {
            const char* v = value(name);
            unsigned long long n = 0;
            if (!parse_number(v, max, n)) {
                std::fprintf(stderr, "session-localnet: %s expects a number 0..%llu, got '%s'\n", name, max, v);
                std::exit(2);
            }
            return n;
        };
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--nodes") {
            opt.node_count = number("--nodes", 1000);
        } else if (a == "--swarm-size") {
            opt.swarm_size = number("--swarm-size", 1000);
        } else if (a == "--seeds") {
            opt.seed_count = number("--seeds", 16);
        } else if (a == "--port-base") {
            opt.port_base = static_cast<std::uint16_t>(number("--port-base", 65535));
        } else if (a == "--data-dir") {
            opt.data_dir = value("--data-dir");
        } else if (a == "--network-file") {
            network_file = value("--network-file");
        } else if (a == "--control-port") {
            opt.control_port = static_cast<std::uint16_t>(number("--control-port", 65535));
        } else if (a == "--no-control") {
            opt.control_endpoint = false;
        } else if (a == "--relay-timeout-ms") {
            opt.relay_timeout = std::chrono::milliseconds(number("--relay-timeout-ms", 600000));
        } else if (a == "--key-seed") {
            opt.key_seed = number("--key-seed", ~0ULL);
        } else if (a == "--distinct-subnets") {
            opt.distinct_subnets = true;
        } else if (a == "--no-file-server") {
            opt.file_server = false;
        } else if (a == "--file-server-port") {
            opt.file_server_port = static_cast<std::uint16_t>(number("--file-server-port", 65535));
        } else if (a == "--file-max-bytes") {
            opt.file_max_bytes = number("--file-max-bytes", 100'000'000);
        } else if (a == "--file-expiry-s") {
            opt.file_expiry = std::chrono::seconds(number("--file-expiry-s", 10ULL * 365 * 86400));
        } else if (a == "--quiet") {
            quiet = true;
        } else {
            std::fprintf(stderr, "session-localnet: unknown option '%s'\n%s", argv[i], kUsage);
            return 2;
        }
    }

    // Block SIGINT/SIGTERM in every thread (the servers' threads inherit the mask) and wait for
    // them on a signalfd, so shutdown runs on the main thread.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);

    auto net = Network::start(opt);
    if (!net) {
        std::fprintf(stderr, "session-localnet: %s\n", net.error().message.c_str());
        return 1;
    }
    WrittenFile written;  // removed on every return below
    if (!network_file.empty()) {
        if (auto r = (*net)->write_network_file(network_file); !r) {
            std::fprintf(stderr, "session-localnet: %s\n", r.error().message.c_str());
            return 1;
        }
        written.remember(network_file);
    }
    if (!quiet) {
        for (const auto& s : (*net)->seed_urls()) std::printf("seed     %s\n", s.c_str());
        for (const auto& n : (*net)->nodes())
            std::printf("node %-3zu %s swarm %016llx ed25519 %s\n", n.index, n.url.c_str(),
                        static_cast<unsigned long long>(n.swarm_id), n.pubkey_ed25519.c_str());
        if (auto c = (*net)->control_url(); !c.empty()) std::printf("control  %s\n", c.c_str());
        if ((*net)->has_file_server()) {
            const auto f = (*net)->file_server();
            std::printf("files    %s x25519 %s ed25519 %s\n", f.url.c_str(), f.pubkey_x25519.c_str(),
                        f.pubkey_ed25519.c_str());
        }
        if (!network_file.empty()) std::printf("network file %s\n", network_file.c_str());
        std::printf("ready\n");
        std::fflush(stdout);
    }
    int fd = signalfd(-1, &mask, 0);
    if (fd < 0) {
        std::perror("session-localnet: signalfd");
        return 1;
    }
    signalfd_siginfo info{};
    while (read(fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) {
    }
    close(fd);
    (*net)->stop();
    if (!quiet) std::printf("stopped (signal %u)%s\n", info.ssi_signo,
                            network_file.empty() ? "" : ("; removed " + network_file).c_str());
    return 0;
}

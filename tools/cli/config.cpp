// config.cpp: defaults for --network and -o from the environment and the config file.
//   precedence: flag > environment (SESSION_NETWORK, SESSION_OUTPUT) > config file > built-in default
//   config file: $XDG_CONFIG_HOME/session-cli/config (XDG base directory spec: only an absolute
//   XDG_CONFIG_HOME counts), else ~/.config/session-cli/config; optional.
//   format: one `key = value` per line; blank lines and lines starting with # are ignored; a value
//   may be quoted ("…"); every key at most once. Keys: config_keys() in table.cpp.
#include <cstdlib>
#include <string>

#include "cli.hpp"
#include "detail/file_read.hpp"

namespace session::cli {
namespace {

// A config file is a few lines; anything bigger is not one.
constexpr std::uint64_t kMaxConfigBytes = 64 * 1024;
// Lines looked at, however the file is made (a bound on the loop, like every loop over input).
constexpr std::size_t kMaxConfigLines = 1000;

Failure usage(std::string message) { return Failure{kUsage, std::move(message)}; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash == 0 ? 1 : slash);
}

struct ConfigValues {
    std::optional<std::string> network;  // "" = mainnet
    std::string network_where;
    std::optional<Format> output;
};

// `value` of the config file's `network` key: "mainnet", or a path (~/ expanded; relative to the
// config file's directory, so the file means the same from any working directory).
std::string config_network(std::string_view value, const std::string& config_path) {
    if (value == "mainnet") return "";
    if (value.starts_with("~/")) {
        const char* home = std::getenv("HOME");
        return std::string(home ? home : "") + std::string(value.substr(1));
    }
    if (value.starts_with("/")) return std::string(value);
    return directory_of(config_path) + "/" + std::string(value);
}

Expected<ConfigValues, Failure> read_config(const std::string& path) {
    ConfigValues out;
    if (path.empty()) return out;
    auto text = detail::read_file_if_exists(path, {.max_bytes = kMaxConfigBytes}, "config file");
    if (!text) return Unexpected<Failure>(usage(text.error().message));
    if (!*text) return out;
    std::string_view rest = **text;
    std::map<std::string, std::size_t, std::less<>> seen;  // key → line
    for (std::size_t line_no = 1; !rest.empty() && line_no <= kMaxConfigLines; ++line_no) {
        const auto nl = rest.find('\n');
        const std::string_view line = trim(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        const std::string where = "config file " + path + " line " + std::to_string(line_no);
        if (line.empty() || line.front() == '#') continue;
        if (invalid_utf8_at(line)) return Unexpected<Failure>(usage(where + ": not valid UTF-8"));
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            return Unexpected<Failure>(usage(where + ": expected key = value, got \"" +
                                             std::string(line.substr(0, 40)) + "\""));
        const std::string key(trim(line.substr(0, eq)));
        std::string_view value = trim(line.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        if (auto it = seen.find(key); it != seen.end())
            return Unexpected<Failure>(usage(where + ": " + key + " given twice (first on line " +
                                             std::to_string(it->second) + ")"));
        seen.emplace(key, line_no);
        if (key == "network") {
            if (value.empty()) return Unexpected<Failure>(usage(where + ": network: expected a file name or mainnet"));
            out.network = config_network(value, path);
            out.network_where = where;
        } else if (key == "output") {
            out.output = parse_format(value);
            if (!out.output)
                return Unexpected<Failure>(usage(where + ": output: expected json or text, got \"" +
                                                 std::string(value.substr(0, 40)) + "\""));
        } else {
            std::string keys;
            for (const auto& k : config_keys()) keys += (keys.empty() ? "" : ", ") + std::string(k.name);
            return Unexpected<Failure>(usage(where + ": unknown key \"" + key.substr(0, 40) + "\" (keys: " + keys + ")"));
        }
    }
    return out;
}

}  // namespace

std::string config_file_path() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/session-cli/config";
    const char* home = std::getenv("HOME");
    if (home && *home) return std::string(home) + "/.config/session-cli/config";
    return "";
}

Expected<void, Failure> resolve_settings(Args& args) {
    auto config = read_config(config_file_path());
    if (!config) return Unexpected<Failure>(config.error());

    if (const std::string* flag = args.get("network")) {
        if (flag->empty()) return Unexpected<Failure>(usage("--network needs a file name (or mainnet)"));
        args.network = *flag == "mainnet" ? "" : *flag;
        args.network_source = "--network";
    } else if (const char* env = std::getenv("SESSION_NETWORK"); env && *env) {
        args.network = std::string_view(env) == "mainnet" ? "" : env;
        args.network_source = "SESSION_NETWORK";
    } else if (config->network) {
        args.network = *config->network;
        args.network_source = config->network_where;
    }

    if (!args.format) {
        if (const char* env = std::getenv("SESSION_OUTPUT"); env && *env) {
            args.format = parse_format(env);
            if (!args.format)
                return Unexpected<Failure>(usage("SESSION_OUTPUT: expected json or text, got \"" +
                                                 std::string(env).substr(0, 40) + "\""));
        } else if (config->output) {
            args.format = config->output;
        }
    }
    return {};
}

}  // namespace session::cli

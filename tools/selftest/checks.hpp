#pragma once
// checks.hpp: session-selftest's offline checks. Each check returns nothing on success or a
// sentence saying what differed. Known answers are compiled in (from tests/vectors, which cite their
// sources), so an installed session-selftest needs no files.
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace session::selftest {

using Outcome = std::optional<std::string>;  // nullopt = pass, else the reason it failed

struct Check {
    std::string name;
    std::function<Outcome()> run;
};

/// Every check, in the order the data flows through the library.
std::vector<Check> all_checks();

}  // namespace session::selftest

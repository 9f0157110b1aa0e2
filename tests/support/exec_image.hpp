// A program's argv and environment, laid out before fork(). A child forked from a process with
// threads (a local network, a client's I/O) may only call async-signal-safe functions until it
// execs: a malloc or setenv there can wait forever on a lock that another thread held at the fork.
// So everything that allocates happens here, in the parent, and the child only opens files,
// dup2s, drops privileges and calls exec().
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace session::test {

class ExecImage {
public:
    // `program args…` with this process's environment, changed by `env`: a value sets the
    // variable, nullopt removes it.
    ExecImage(std::string program, const std::vector<std::string>& args,
              const std::map<std::string, std::optional<std::string>>& env = {});
    ExecImage(const ExecImage&) = delete;
    ExecImage& operator=(const ExecImage&) = delete;

    // execve, then _exit(127) if that failed. Async-signal-safe: for the child after fork().
    [[noreturn]] void exec() const noexcept;

private:
    std::vector<std::string> args_, envs_;
    std::vector<char*> argv_, envp_;
};

}  // namespace session::test

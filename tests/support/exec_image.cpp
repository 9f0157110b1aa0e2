#include "support/exec_image.hpp"

#include <unistd.h>

#include <string_view>

extern char** environ;

namespace session::test {

ExecImage::ExecImage(std::string program, const std::vector<std::string>& args,
                     const std::map<std::string, std::optional<std::string>>& env) {
    args_.push_back(std::move(program));
    args_.insert(args_.end(), args.begin(), args.end());
    for (char** e = environ; *e; ++e) {
        const std::string_view kv = *e;
        if (!env.count(std::string(kv.substr(0, kv.find('='))))) envs_.emplace_back(kv);
    }
    for (const auto& [key, value] : env)
        if (value) envs_.push_back(key + "=" + *value);
    for (auto& s : args_) argv_.push_back(s.data());
    argv_.push_back(nullptr);
    for (auto& s : envs_) envp_.push_back(s.data());
    envp_.push_back(nullptr);
}

void ExecImage::exec() const noexcept {
    ::execve(argv_[0], argv_.data(), envp_.data());
    ::_exit(127);
}

}  // namespace session::test

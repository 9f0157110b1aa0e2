#include "support/vectors.hpp"

#include <fstream>
#include <stdexcept>

namespace session::test {

nlohmann::json vectors(const std::string& file) {
    std::ifstream in{std::string{SESSION_TEST_VECTORS_DIR} + "/" + file};
    if (!in) throw std::runtime_error("cannot open test vector file " + file);
    return nlohmann::json::parse(in).at("vectors");
}

nlohmann::json vector(const std::string& file, const std::string& name) {
    for (auto& v : vectors(file))
        if (v.at("name") == name) return v;
    throw std::runtime_error("no vector " + name + " in " + file);
}

Bytes unhex(std::string_view h) {
    auto b = from_hex(h);
    if (!b) throw std::runtime_error(b.error().message);
    return *b;
}

Bytes hex(const nlohmann::json& v, const char* key) { return unhex(v.at(key).get<std::string>()); }

}  // namespace session::test

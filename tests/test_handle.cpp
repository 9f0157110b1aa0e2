#include "detail/handle.hpp"

#include <openssl/evp.h>

#include <catch2/catch.hpp>

#include <utility>

namespace {

int g_freed = 0;
struct Thing {
    int id = 0;
};
void free_thing(Thing* t) {
    ++g_freed;
    delete t;
}
using ThingHandle = session::detail::Handle<Thing, free_thing>;

}  // namespace

TEST_CASE("handle: the owner frees its handle exactly once, and a moved-from or null owner frees nothing", "[handle]") {
    g_freed = 0;
    {
        ThingHandle a{new Thing{1}};
        ThingHandle b = std::move(a);
        CHECK_FALSE(a);
        REQUIRE(b);
        CHECK(b->id == 1);
        ThingHandle none{nullptr};
        CHECK(g_freed == 0);
    }
    CHECK(g_freed == 1);
    {
        ThingHandle c{new Thing{2}};
        c.reset(new Thing{3});
        CHECK(g_freed == 2);
    }
    CHECK(g_freed == 3);
}

TEST_CASE("handle: owns an OpenSSL context with OpenSSL's own free function", "[handle]") {
    session::detail::Handle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free> ctx{EVP_CIPHER_CTX_new()};
    REQUIRE(ctx);
    CHECK(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1);
    static_assert(sizeof(ctx) == sizeof(void*), "the deleter takes no space");
}

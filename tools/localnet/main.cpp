#include <cstdio>
int main() {
    std::fputs("session-localnet: not built yet\n", stderr);
    return 2;
}

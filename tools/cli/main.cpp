#include <cstdio>
int main() {
    std::fputs("session-cli: not built yet\n", stderr);
    return 2;
}

#include <cstdio>
int main() {
    std::fputs("session-selftest: no checks yet\n", stderr);
    return 1;
}

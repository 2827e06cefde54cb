// C++ target for the unwinder tests (tests/MemWatch.IntegrationTests/Unwinding): threads parked in nanosleep
//   lambda   through std::function and inlined templates,
//   catch    inside a catch block, after a throw unwound three frames (libstdc++/libgcc's own unwinder ran),
//   virtual  through a virtual call in a -O2 class hierarchy.
// READY line: "name=tid" pairs. Commands: "quit".
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static std::atomic<int> g_tids[3];
static volatile int g_wake;

static void report(int i) { g_tids[i].store((int)syscall(SYS_gettid)); }

__attribute__((noinline)) static void sleep_forever()
{
    while (!g_wake) {
        timespec ts{1000, 0};
        nanosleep(&ts, nullptr);
    }
}

template <typename F> static inline void twice_inlined(F &&f) { f(); }

__attribute__((noinline)) static void run_lambda(const std::function<void()> &fn) { twice_inlined([&] { fn(); }); }

__attribute__((noinline)) static void thrower(int depth)
{
    if (depth == 0) throw std::runtime_error("unwound");
    thrower(depth - 1);
    asm volatile("" ::: "memory");
}

struct Base {
    virtual ~Base() = default;
    virtual void park(int i) = 0;
};
struct Derived : Base {
    __attribute__((noinline)) void park(int i) override { report(i); sleep_forever(); }
};

int main()
{
    setvbuf(stdout, nullptr, _IOLBF, 0);
    std::vector<std::thread> threads;
    threads.emplace_back([] { run_lambda([] { report(0); sleep_forever(); }); });
    threads.emplace_back([] {
        try {
            thrower(3);
        } catch (const std::exception &e) {
            report(1);
            sleep_forever();
        }
    });
    threads.emplace_back([] {
        Base *b = new Derived();
        b->park(2);
        delete b;
    });
    for (auto &t : g_tids)
        while (t.load() == 0) usleep(1000);
    std::printf("READY main=%d lambda=%d catch=%d virtual=%d\n", (int)getpid(), g_tids[0].load(), g_tids[1].load(), g_tids[2].load());
    char line[64];
    while (std::fgets(line, sizeof line, stdin))
        if (std::strncmp(line, "quit", 4) == 0) break;
    g_wake = 1;
    for (auto &t : threads) t.join();
    return 0;
}

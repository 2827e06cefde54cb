// Attribution corpus, C++ with inlined frames: Registry::remember (leaks 16 KiB records) is inlined into
// handle_request at -O2; format_reply churns std::string and std::vector buffers that are freed at once.
// Usage: attr_inline [LEAK_KIB_S]; prints READY, runs until stdin reaches EOF.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <pthread.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

constexpr size_t kRecord = 16 * 1024;
long leak_kib_s = 2048;
void *volatile sink;

double now_seconds()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct Registry {
    std::vector<char *> records;

    // Inlined into handle_request: the leak's frames name the caller.
    inline void remember(int id)
    {
        char *r = new char[kRecord];
        for (size_t i = 0; i < kRecord; i += 512)
            r[i] = static_cast<char>(id + i);
        if (records.size() < 16)
            records.push_back(r); // the rest are dropped: leaked
        sink = r;
    }
};

Registry registry;

__attribute__((noinline)) void handle_request(int id) { registry.remember(id); }

__attribute__((noinline)) size_t format_reply(int id)
{
    std::string reply = "reply " + std::to_string(id);
    std::vector<int> fields(200, id);
    for (int i = 0; i < 20; i++)
        reply += std::to_string(fields[i]);
    return reply.size() + fields.size();
}

void *read_stdin(void *)
{
    char line[256];
    while (fgets(line, sizeof line, stdin))
        printf("ERR unknown command\n");
    exit(0);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc > 1)
        leak_kib_s = atol(argv[1]);
    setvbuf(stdout, nullptr, _IOLBF, 0);
    printf("READY pid=%d\n", static_cast<int>(getpid()));
    pthread_t reader;
    pthread_create(&reader, nullptr, read_stdin, nullptr);
    double start = now_seconds();
    long done = 0;
    size_t total = 0;
    for (unsigned long n = 0;; n++) {
        total += format_reply(static_cast<int>(n));
        long due = static_cast<long>((now_seconds() - start) * leak_kib_s * 1024 / kRecord);
        while (done < due)
            handle_request(static_cast<int>(done++));
        if (n % 64 == 0)
            usleep(1000);
    }
    return static_cast<int>(total);
}

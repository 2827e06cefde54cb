// The seed scenario (512 MiB in 100-byte new char[] blocks, all deleted) plus a "hiccup" thread that wakes every
// ~100 µs, timestamps itself and keeps the longest gap between two wake-ups: how long a tool stopped that thread.
// Commands: "fill MiB", "drop", "trim" (malloc_trim(0) by the target itself) -> "OK rss_kb=<VmRSS>";
// "gap" -> "OK max_gap_us=<longest gap since the last gap>".
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <malloc.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

static std::atomic<long> max_gap_ns{0};
static std::atomic<bool> reset_gap{false};
static std::atomic<long> hiccup_tid{0};

static long now_ns() { timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000L + t.tv_nsec; }

static void *hiccup(void *) {
  hiccup_tid = syscall(SYS_gettid);
  timespec nap{0, 100 * 1000};
  long last = now_ns();
  for (;;) {
    nanosleep(&nap, nullptr);
    long t = now_ns();
    if (reset_gap.exchange(false)) max_gap_ns = 0;
    long gap = t - last;
    if (gap > max_gap_ns) max_gap_ns = gap;
    last = t;
  }
  return nullptr;
}

static long rss_kb() {
  FILE *f = std::fopen("/proc/self/status", "r"); char l[256]; long kb = -1;
  while (f && std::fgets(l, sizeof l, f)) if (std::sscanf(l, "VmRSS: %ld", &kb) == 1) break;
  if (f) std::fclose(f);
  return kb;
}

int main() {
  std::vector<char *> blocks;
  char line[256];
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  pthread_t t;
  pthread_create(&t, nullptr, hiccup, nullptr);
  while (hiccup_tid == 0) usleep(1000);
  std::printf("READY hiccup_tid=%ld\n", hiccup_tid.load());
  while (std::fgets(line, sizeof line, stdin)) {
    unsigned long mib;
    if (std::sscanf(line, "fill %lu", &mib) == 1) {
      size_t n = mib * 1024 * 1024 / 100;
      blocks.reserve(n);
      for (size_t i = 0; i < n; i++) { char *p = new char[100]; std::memset(p, 7, 100); blocks.push_back(p); }
      std::printf("OK rss_kb=%ld\n", rss_kb());
    } else if (std::strncmp(line, "drop", 4) == 0) {
      for (char *p : blocks) delete[] p;
      blocks.clear();
      blocks.shrink_to_fit();
      std::printf("OK rss_kb=%ld\n", rss_kb());
    } else if (std::strncmp(line, "trim", 4) == 0) {
      malloc_trim(0);
      std::printf("OK rss_kb=%ld\n", rss_kb());
    } else if (std::strncmp(line, "gap", 3) == 0) {
      long g = max_gap_ns.load();
      reset_gap = true;
      std::printf("OK max_gap_us=%ld\n", g / 1000);
    } else {
      std::printf("ERR unknown command\n");
    }
  }
  return 0;
}

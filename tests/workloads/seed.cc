// The seed scenario of issue 3: 512 MiB in 100-byte `new char[100]` blocks, all deleted, then idle.
// Commands: "fill MiB" allocates and touches, "drop" deletes every block; both answer "OK rss_kb=<VmRSS>".
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

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
  std::printf("READY\n");
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
      std::printf("OK rss_kb=%ld\n", rss_kb());
    } else {
      std::printf("ERR unknown command\n");
    }
  }
  return 0;
}

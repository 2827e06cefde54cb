// Seed 001: 100-byte new/delete. The freed chunks go to tcache and fastbins, which glibc does not coalesce, so
// nothing reaches the top chunk and RSS stays at its peak. Argument: block size (default 100; the 10 KiB twin uses
// 10240 and gets its memory back because larger chunks coalesce into the top, which is trimmed on free).
// Commands: "burst MiB" allocates and touches that much in blocks, then deletes them all -> "OK".
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char **argv) {
  size_t size = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100;
  char line[256];
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("READY\n");
  while (std::fgets(line, sizeof line, stdin)) {
    unsigned long mib;
    if (std::sscanf(line, "burst %lu", &mib) == 1) {
      size_t n = mib * 1024 * 1024 / size;
      std::vector<char *> blocks;
      blocks.reserve(n);
      for (size_t i = 0; i < n; i++) { char *p = new char[size]; std::memset(p, 7, size); blocks.push_back(p); }
      for (char *p : blocks) delete[] p;
      std::printf("OK\n");
    } else {
      std::printf("ERR unknown command\n");
    }
  }
  return 0;
}

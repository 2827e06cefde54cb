/* libattrleak.so for attr_sites "library": the leak lives in a shared library. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void fill(char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 512)
        p[i] = (char)i;
}

void *lib_remember(size_t size)
{
    char *p = malloc(size);
    fill(p, size);
    return p; /* the caller drops it */
}

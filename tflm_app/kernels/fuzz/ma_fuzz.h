/* ma_fuzz.h: what the libFuzzer harnesses of the decoders share (one translation unit each).
 *
 * CHECK(cond): abort with the condition and line when it is false (libFuzzer keeps the input);
 * small_mode(): 1 when MA_FUZZ_SMALL is set (the harness keeps its shapes small);
 * reader / take(): the input bytes, one at a time, 0 once they run out. */
#ifndef MA_FUZZ_H
#define MA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__);   \
            abort();                                                             \
        }                                                                        \
    } while (0)

static int small_mode(void)
{
    static int small = -1;
    if (small < 0) {
        small = getenv("MA_FUZZ_SMALL") != NULL;
    }
    return small;
}

typedef struct {
    const uint8_t *p;
    size_t n;
} reader;

static uint32_t take(reader *r)
{
    if (r->n == 0) {
        return 0;
    }
    r->n--;
    return *r->p++;
}

#endif /* MA_FUZZ_H */

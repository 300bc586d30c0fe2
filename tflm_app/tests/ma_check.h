/* ma_check.h: the one check macro of the C test programs in tflm_app/tests/.
 *
 * CHECK(cond, fmt, ...) counts a failure and prints "FAIL line N: <message>" when cond is false;
 * a test's main returns `failures` (0 = pass), which the host harness or QEMU's semihosting exit
 * code reports. Included by one translation unit per test program. */
#ifndef MA_CHECK_H
#define MA_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                        \
    do {                                        \
        if (!(cond)) {                          \
            ++failures;                         \
            printf("FAIL line %d: ", __LINE__); \
            printf(__VA_ARGS__);                \
            printf("\n");                       \
        }                                       \
    } while (0)

#endif /* MA_CHECK_H */

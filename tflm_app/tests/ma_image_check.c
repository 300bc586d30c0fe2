/* ma_image_check: host tool for tests/test_image_c.py's differential test -- opens each image file
 * given on the command line with ma_image_open (all checks, this build's header hashes) and prints
 * one line per file: the ma_image_reason number. Exit status 0, or 2 when a file cannot be read. */
#include <stdio.h>
#include <stdlib.h>

#include "ma_image.h"

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) return 2;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        unsigned char *buf = (unsigned char *)malloc(n > 0 ? (size_t)n : 1u);
        if (buf == NULL || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) return 2;
        fclose(f);
        ma_image img;
        ma_status s = ma_image_open(&img, buf, (uint32_t)n, MA_IMAGE_CHECK_ALL);
        printf("%d\n", s == MA_OK ? 0 : (int)img.reason);
        free(buf);
    }
    return 0;
}

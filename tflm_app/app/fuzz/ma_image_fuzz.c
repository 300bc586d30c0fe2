/* libFuzzer harness for the weight image reader (ma_image_open) and its CRC-32 / SHA-256.
 *   clang -fsanitize=fuzzer,address,undefined ...   (tflm_app/fuzz.sh ma_image builds and runs it)
 * Input: byte 0 selects the mode, the rest is the image.
 *   bit 0..1: checks (MA_IMAGE_CHECK_CRC / MA_IMAGE_CHECK_MODEL_SHA256);
 *   bit 2:    re-stamp the header and payload CRCs first (when the size fields fit the input), so
 *             mutated images get past the CRCs and reach the section, layout, SHA and hash checks.
 * Every result must be MA_OK or MA_ERR_IMAGE with a reason; a successful open must describe a
 * model inside the input; MA_FUZZ_STATS=1 prints the reasons seen at exit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ma_hash.h"
#include "ma_image.h"

static unsigned long reasons[16];

static void report(void)
{
    for (int i = 0; i < 16; ++i) {
        if (reasons[i]) {
            fprintf(stderr, "reason %2d %-60s %lu\n", i, ma_image_reason_str((ma_image_reason)i), reasons[i]);
        }
    }
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; ++i) p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int registered;
    if (!registered) {
        registered = 1;
        if (getenv("MA_FUZZ_STATS")) atexit(report);
    }
    if (size < 1 || size > (1u << 20)) return 0;
    uint8_t mode = data[0];
    uint32_t n = (uint32_t)(size - 1);
    uint8_t *img = (uint8_t *)malloc(n ? n : 1); /* exact size: ASan catches any read past the end */
    if (!img) return 0;
    memcpy(img, data + 1, n);
    if ((mode & 4) && n >= MA_IMAGE_FIXED_HEADER_BYTES) {
        uint32_t hsize = rd32(img + 12), total = rd32(img + 16);
        if (hsize >= 68 && hsize <= total && total <= n) {
            wr32(img + 20, ma_crc32(0, img + hsize, total - hsize));
            wr32(img + 64, 0);
            wr32(img + 64, ma_crc32(0, img, hsize));
        }
    }
    ma_image im;
    ma_status s = ma_image_open(&im, img, n, mode & MA_IMAGE_CHECK_ALL);
    if (s == MA_OK) {
        if (im.reason != MA_IMAGE_OK || im.model < img || im.model_size > n ||
            (size_t)(im.model - img) + im.model_size > n || im.total_size > n)
            abort();
        volatile uint8_t sink = 0;
        for (uint32_t i = 0; i < im.model_size; ++i) sink ^= im.model[i]; /* ASan: inside the input */
        for (uint32_t i = 0; i < im.layout_count; ++i) {
            ma_image_placement p;
            if (ma_image_placement_at(&im, i, &p) != MA_OK || (uint64_t)p.offset + p.size > im.model_size) abort();
        }
        (void)sink;
    } else if (s != MA_ERR_IMAGE || im.reason == MA_IMAGE_OK) {
        abort();
    }
    reasons[im.reason & 15]++;
    free(img);
    return 0;
}

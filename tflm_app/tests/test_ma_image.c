/* Test firmware (host + Cortex-M7 under QEMU) for the weight image reader and its CRC-32 / SHA-256.
 * The vectors header (ma_image_vectors.h) is written by tests/test_image_c.py from Python's
 * export/image.py, zlib and hashlib: a good image of the shipped model for the committed generated
 * headers, and messages with their CRC-32 and SHA-256. The bad images are made here from the good
 * one (byte flips, cuts, re-stamped CRCs), so each check of ma_image_open is reached on its own.
 * Returns the number of failed checks (0 = pass). */
#include <stdio.h>
#include <string.h>

#include "ma_hash.h"
#define MA_IMAGE_DEFINE_TABLES /* this file's own copy of MA_IMAGE_HASHES, to derive other tables */
#include "ma_image.h"
#include "ma_image_vectors.h"

#include "ma_check.h"

static uint8_t work[V_IMAGE_SIZE + 64];

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; ++i) p[i] = (uint8_t)(v >> (8 * i));
}

/* Re-stamp the payload and header CRCs of work[] (as a writer would), so later checks are reached. */
static void restamp(void)
{
    uint32_t hsize = rd32(work + 12), total = rd32(work + 16);
    wr32(work + 20, ma_crc32(0, work + hsize, total - hsize));
    wr32(work + 64, 0);
    wr32(work + 64, ma_crc32(0, work, hsize));
}

static void expect(const char *what, uint32_t size, ma_image_reason reason)
{
    ma_image img;
    ma_status s = ma_image_open(&img, work, size, MA_IMAGE_CHECK_ALL);
    CHECK(s == (reason == MA_IMAGE_OK ? MA_OK : MA_ERR_IMAGE) && img.reason == reason,
          "%s: status %ld reason %d (%s), expected reason %d (%s)", what, (long)s, (int)img.reason,
          ma_image_reason_str(img.reason), (int)reason, ma_image_reason_str(reason));
}

static void fresh(void) { memcpy(work, V_IMAGE, V_IMAGE_SIZE); }

int main(void)
{
    /* CRC-32 and SHA-256 against zlib and hashlib, whole and in two pieces */
    for (int i = 0; i < V_N_MSG; ++i) {
        const uint8_t *m = V_MSG + V_MSG_OFF[i];
        uint32_t n = V_MSG_LEN[i], cut = n / 3;
        uint32_t crc = ma_crc32(0, m, n);
        CHECK(crc == V_MSG_CRC[i], "crc32 len %lu: %08lx != %08lx", (unsigned long)n, (unsigned long)crc,
              (unsigned long)V_MSG_CRC[i]);
        CHECK(ma_crc32(ma_crc32(0, m, cut), m + cut, n - cut) == V_MSG_CRC[i], "crc32 split len %lu", (unsigned long)n);
        uint8_t d[32];
        ma_sha256(m, n, d);
        CHECK(memcmp(d, V_MSG_SHA[i], 32) == 0, "sha256 len %lu", (unsigned long)n);
        ma_sha256_ctx c;
        ma_sha256_init(&c);
        ma_sha256_update(&c, m, cut);
        ma_sha256_update(&c, m + cut, 0);
        ma_sha256_update(&c, m + cut, n - cut);
        ma_sha256_final(&c, d);
        CHECK(memcmp(d, V_MSG_SHA[i], 32) == 0, "sha256 split len %lu", (unsigned long)n);
    }

    /* the good image */
    fresh();
    ma_image img;
    ma_status s = ma_image_open(&img, work, V_IMAGE_SIZE, MA_IMAGE_CHECK_ALL);
    CHECK(s == MA_OK, "good image: status %ld reason %s", (long)s, ma_image_reason_str(img.reason));
    CHECK(img.model == work + V_MODEL_OFFSET && img.model_size == V_MODEL_SIZE, "model section at %ld+%lu",
          (long)(img.model - work), (unsigned long)img.model_size);
    CHECK(img.version == MA_IMAGE_VERSION && img.total_size == V_IMAGE_SIZE && img.header_size == V_HEADER_SIZE,
          "header fields");
    CHECK(img.layout_count == V_LAYOUT_COUNT, "layout count %lu", (unsigned long)img.layout_count);
    ma_image_placement p;
    CHECK(ma_image_placement_at(&img, 0, &p) == MA_OK && p.buffer == V_FIRST_BUFFER && p.first_op == 0 &&
              p.offset == V_FIRST_OFFSET && p.size == V_FIRST_SIZE, "first placement");
    CHECK(ma_image_placement_at(&img, V_LAYOUT_COUNT, &p) == MA_ERR_ARGUMENT, "placement out of range");
    CHECK(memcmp(img.model + 4, "TFL3", 4) == 0, "model identifier");
    /* a larger buffer than total_size is fine (a flash partition) */
    expect("image in a larger region", V_IMAGE_SIZE + 64, MA_IMAGE_OK);

    /* truncated */
    expect("empty", 0, MA_IMAGE_TRUNCATED);
    expect("79 bytes", 79, MA_IMAGE_TRUNCATED);
    expect("header only", V_HEADER_SIZE, MA_IMAGE_TRUNCATED);
    expect("one byte short", V_IMAGE_SIZE - 1, MA_IMAGE_TRUNCATED);

    /* magic, version */
    fresh();
    work[0] ^= 0x20;
    expect("magic", V_IMAGE_SIZE, MA_IMAGE_BAD_MAGIC);
    fresh();
    wr32(work + 8, MA_IMAGE_VERSION + 1);
    expect("version", V_IMAGE_SIZE, MA_IMAGE_BAD_VERSION);
    fresh();
    wr32(work + 24, MA_IMAGE_MAX_SECTIONS + 1);
    expect("section count", V_IMAGE_SIZE, MA_IMAGE_BAD_HEADER);
    fresh();
    wr32(work + 12, V_HEADER_SIZE + 1);
    expect("header size", V_IMAGE_SIZE, MA_IMAGE_BAD_HEADER);

    /* corrupt: a byte of the header's reserved field, of the model, of the layout */
    fresh();
    work[70] ^= 1;
    expect("header byte", V_IMAGE_SIZE, MA_IMAGE_HEADER_CORRUPT);
    fresh();
    work[V_MODEL_OFFSET + V_MODEL_SIZE / 2] ^= 0x80;
    expect("model byte", V_IMAGE_SIZE, MA_IMAGE_PAYLOAD_CORRUPT);
    fresh();
    work[V_IMAGE_SIZE - 1] ^= 4;
    expect("last byte", V_IMAGE_SIZE, MA_IMAGE_PAYLOAD_CORRUPT);
    /* the same model byte with the CRCs re-stamped: the SHA-256 still catches it */
    fresh();
    work[V_MODEL_OFFSET + V_MODEL_SIZE / 2] ^= 0x80;
    restamp();
    expect("model byte, CRCs re-stamped", V_IMAGE_SIZE, MA_IMAGE_MODEL_CORRUPT);
    CHECK(ma_image_open(&img, work, V_IMAGE_SIZE, MA_IMAGE_CHECK_CRC) == MA_OK, "SHA-256 check can be skipped");

    /* sections out of bounds / misaligned / missing model */
    fresh();
    wr32(work + 80 + 8, V_IMAGE_SIZE); /* model size past the end */
    restamp();
    expect("section past the end", V_IMAGE_SIZE, MA_IMAGE_BAD_SECTION);
    fresh();
    wr32(work + 80 + 4, V_MODEL_OFFSET + 16);
    restamp();
    expect("misaligned section", V_IMAGE_SIZE, MA_IMAGE_BAD_SECTION);
    fresh();
    wr32(work + 80 + 4, 0xFFFFFFC0u);
    wr32(work + 80 + 8, 0x80u);
    restamp();
    expect("section offset overflow", V_IMAGE_SIZE, MA_IMAGE_BAD_SECTION);
    fresh();
    wr32(work + 80, 7); /* model section relabelled: no model */
    restamp();
    expect("no model", V_IMAGE_SIZE, MA_IMAGE_NO_MODEL);
    fresh();
    wr32(work + V_LAYOUT_OFFSET + 8, V_MODEL_SIZE); /* first placement past the model */
    restamp();
    expect("placement past the model", V_IMAGE_SIZE, MA_IMAGE_BAD_SECTION);

    /* mismatched headers: one hash differs, one header missing, one extra */
    fresh();
    ma_image_header_hash other[MA_IMAGE_NUM_HASHES + 1];
    memcpy(other, MA_IMAGE_HASHES, sizeof MA_IMAGE_HASHES);
    other[MA_IMAGE_NUM_HASHES - 1].sha256[31] ^= 1;
    s = ma_image_open_with(&img, work, V_IMAGE_SIZE, MA_IMAGE_CHECK_ALL, other, MA_IMAGE_NUM_HASHES);
    CHECK(s == MA_ERR_IMAGE && img.reason == MA_IMAGE_HEADERS_MISMATCH &&
              strcmp(img.mismatch, MA_IMAGE_HASHES[MA_IMAGE_NUM_HASHES - 1].name) == 0,
          "hash differs: %ld %d '%s'", (long)s, (int)img.reason, img.mismatch);
    memcpy(other, MA_IMAGE_HASHES, sizeof MA_IMAGE_HASHES);
    other[MA_IMAGE_NUM_HASHES].name = "microalign_new_config.h";
    memset(other[MA_IMAGE_NUM_HASHES].sha256, 0, 32);
    s = ma_image_open_with(&img, work, V_IMAGE_SIZE, MA_IMAGE_CHECK_ALL, other, MA_IMAGE_NUM_HASHES + 1);
    CHECK(s == MA_ERR_IMAGE && img.reason == MA_IMAGE_HEADERS_MISMATCH &&
              strcmp(img.mismatch, "microalign_new_config.h") == 0, "header missing from the image: '%s'", img.mismatch);
    s = ma_image_open_with(&img, work, V_IMAGE_SIZE, MA_IMAGE_CHECK_ALL, MA_IMAGE_HASHES + 1, MA_IMAGE_NUM_HASHES - 1);
    CHECK(s == MA_ERR_IMAGE && img.reason == MA_IMAGE_HEADERS_MISMATCH && strcmp(img.mismatch, MA_IMAGE_HASHES[0].name) == 0,
          "extra header in the image: '%s'", img.mismatch);

    /* arguments */
    CHECK(ma_image_open(NULL, work, V_IMAGE_SIZE, MA_IMAGE_CHECK_ALL) == MA_ERR_ARGUMENT, "NULL image");
    CHECK(ma_image_open(&img, NULL, 16, MA_IMAGE_CHECK_ALL) == MA_ERR_ARGUMENT, "NULL data");
    CHECK(ma_image_open(&img, work, V_IMAGE_SIZE, 0x80) == MA_ERR_ARGUMENT, "unknown check flag");
    CHECK(strcmp(ma_image_reason_str((ma_image_reason)99), "unknown image reason") == 0, "reason string");

    printf("ma_image: %d messages, %d failures\n", V_N_MSG, failures);
    return failures;
}

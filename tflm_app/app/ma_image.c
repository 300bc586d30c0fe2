/* ma_image.c: the weight image reader (see ma_image.h; format in convert/microalign/export/image.py). */
#define MA_IMAGE_DEFINE_TABLES
#include "ma_image.h"

#include <string.h>

#include "ma_hash.h"

/* Offsets in the fixed header (export/image.py). */
enum {
    OFF_VERSION = 8,
    OFF_HEADER_SIZE = 12,
    OFF_TOTAL_SIZE = 16,
    OFF_PAYLOAD_CRC = 20,
    OFF_N_SECTIONS = 24,
    OFF_N_HASHES = 28,
    OFF_MODEL_SHA = 32,
    OFF_HEADER_CRC = 64
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static ma_status fail(ma_image *img, ma_image_reason r)
{
    img->reason = r;
    return MA_ERR_IMAGE;
}

const char *ma_image_reason_str(ma_image_reason r)
{
    switch (r) {
    case MA_IMAGE_OK: return "ok";
    case MA_IMAGE_TRUNCATED: return "image truncated";
    case MA_IMAGE_BAD_MAGIC: return "not a microalign weight image (bad magic)";
    case MA_IMAGE_BAD_VERSION: return "image format version not supported by this firmware";
    case MA_IMAGE_BAD_HEADER: return "image header fields out of range";
    case MA_IMAGE_HEADER_CORRUPT: return "image header corrupt (CRC-32 mismatch)";
    case MA_IMAGE_PAYLOAD_CORRUPT: return "image payload corrupt (CRC-32 mismatch)";
    case MA_IMAGE_BAD_SECTION: return "image section out of bounds, misaligned or malformed";
    case MA_IMAGE_NO_MODEL: return "image has no single model section";
    case MA_IMAGE_MODEL_CORRUPT: return "model corrupt (SHA-256 mismatch)";
    case MA_IMAGE_HEADERS_MISMATCH: return "image built for other generated headers than this firmware";
    default: return "unknown image reason";
    }
}

/* The NUL-padded name field equals the C string name. */
static int name_eq(const uint8_t *field, const char *name)
{
    size_t n = strlen(name);
    if (n >= MA_IMAGE_HASH_NAME_BYTES || memcmp(field, name, n) != 0) {
        return 0;
    }
    for (size_t i = n; i < MA_IMAGE_HASH_NAME_BYTES; ++i) {
        if (field[i] != 0) {
            return 0;
        }
    }
    return 1;
}

static void set_mismatch(ma_image *img, const uint8_t *field, const char *name)
{
    size_t i = 0;
    if (name != NULL) {
        for (; name[i] != 0 && i + 1 < sizeof img->mismatch; ++i) {
            img->mismatch[i] = name[i];
        }
    } else {
        for (; i + 1 < sizeof img->mismatch && field[i] != 0; ++i) {
            uint8_t c = field[i];
            img->mismatch[i] = (char)(c >= 0x20 && c < 0x7F ? c : '?');
        }
    }
    img->mismatch[i] = 0;
}

ma_status ma_image_open_with(ma_image *img, const uint8_t *data, uint32_t size, uint32_t checks,
                             const ma_image_header_hash *expected, uint32_t n_expected)
{
    if (img == NULL) {
        return MA_ERR_ARGUMENT;
    }
    memset(img, 0, sizeof *img);
    if ((data == NULL && size != 0) || (expected == NULL && n_expected != 0) || (checks & ~MA_IMAGE_CHECK_ALL)) {
        return MA_ERR_ARGUMENT;
    }
    if (size < MA_IMAGE_FIXED_HEADER_BYTES) {
        return fail(img, MA_IMAGE_TRUNCATED);
    }
    if (memcmp(data, MA_IMAGE_MAGIC, MA_IMAGE_MAGIC_BYTES) != 0) { /* the literal's NUL is byte 8 */
        return fail(img, MA_IMAGE_BAD_MAGIC);
    }
    uint32_t version = le32(data + OFF_VERSION), header_size = le32(data + OFF_HEADER_SIZE);
    uint32_t total = le32(data + OFF_TOTAL_SIZE), n_sec = le32(data + OFF_N_SECTIONS);
    uint32_t n_hash = le32(data + OFF_N_HASHES);
    img->version = version;
    if (version != MA_IMAGE_VERSION) {
        return fail(img, MA_IMAGE_BAD_VERSION);
    }
    if (n_sec == 0 || n_sec > MA_IMAGE_MAX_SECTIONS || n_hash > MA_IMAGE_MAX_HASHES) {
        return fail(img, MA_IMAGE_BAD_HEADER);
    }
    uint32_t need = MA_IMAGE_FIXED_HEADER_BYTES + MA_IMAGE_SECTION_ENTRY_BYTES * n_sec + MA_IMAGE_HASH_ENTRY_BYTES * n_hash;
    if (header_size < need || header_size % MA_IMAGE_SECTION_ALIGN != 0 || total < header_size) {
        return fail(img, MA_IMAGE_BAD_HEADER);
    }
    if (size < total) {
        return fail(img, MA_IMAGE_TRUNCATED);
    }
    if (checks & MA_IMAGE_CHECK_CRC) {
        static const uint8_t zero[4] = {0, 0, 0, 0};
        uint32_t crc = ma_crc32(0, data, OFF_HEADER_CRC);
        crc = ma_crc32(crc, zero, 4);
        crc = ma_crc32(crc, data + OFF_HEADER_CRC + 4, header_size - OFF_HEADER_CRC - 4);
        if (crc != le32(data + OFF_HEADER_CRC)) {
            return fail(img, MA_IMAGE_HEADER_CORRUPT);
        }
        if (ma_crc32(0, data + header_size, total - header_size) != le32(data + OFF_PAYLOAD_CRC)) {
            return fail(img, MA_IMAGE_PAYLOAD_CORRUPT);
        }
    }
    const uint8_t *sec = data + MA_IMAGE_FIXED_HEADER_BYTES;
    uint32_t n_model = 0;
    for (uint32_t i = 0; i < n_sec; ++i, sec += MA_IMAGE_SECTION_ENTRY_BYTES) {
        uint32_t kind = le32(sec), off = le32(sec + 4), len = le32(sec + 8);
        if (off < header_size || off % MA_IMAGE_SECTION_ALIGN != 0 || (uint64_t)off + len > total) {
            return fail(img, MA_IMAGE_BAD_SECTION);
        }
        if (kind == MA_IMAGE_SECTION_MODEL) {
            img->model = data + off;
            img->model_size = len;
            ++n_model;
        } else if (kind == MA_IMAGE_SECTION_LAYOUT) {
            if (len % MA_IMAGE_LAYOUT_RECORD_BYTES != 0 || img->layout != NULL) {
                return fail(img, MA_IMAGE_BAD_SECTION);
            }
            img->layout = data + off;
            img->layout_count = len / MA_IMAGE_LAYOUT_RECORD_BYTES;
        }
    }
    if (n_model != 1) {
        img->model = NULL;
        img->model_size = 0;
        return fail(img, MA_IMAGE_NO_MODEL);
    }
    for (uint32_t i = 0; i < img->layout_count; ++i) {  /* every placement inside the model */
        const uint8_t *r = img->layout + (size_t)i * MA_IMAGE_LAYOUT_RECORD_BYTES;
        if ((uint64_t)le32(r + 8) + le32(r + 12) > img->model_size) {
            return fail(img, MA_IMAGE_BAD_SECTION);
        }
    }
    if (checks & MA_IMAGE_CHECK_MODEL_SHA256) {
        uint8_t digest[32];
        ma_sha256(img->model, img->model_size, digest);
        if (memcmp(digest, data + OFF_MODEL_SHA, 32) != 0) {
            return fail(img, MA_IMAGE_MODEL_CORRUPT);
        }
    }
    /* the image's header table must equal the firmware's: same names, same hashes */
    const uint8_t *tab = data + MA_IMAGE_FIXED_HEADER_BYTES + MA_IMAGE_SECTION_ENTRY_BYTES * n_sec;
    for (uint32_t j = 0; j < n_expected; ++j) {
        uint32_t i = 0;
        while (i < n_hash && !name_eq(tab + (size_t)i * MA_IMAGE_HASH_ENTRY_BYTES, expected[j].name)) {
            ++i;
        }
        if (i == n_hash || memcmp(tab + (size_t)i * MA_IMAGE_HASH_ENTRY_BYTES + MA_IMAGE_HASH_NAME_BYTES,
                                  expected[j].sha256, 32) != 0) {
            set_mismatch(img, NULL, expected[j].name);
            return fail(img, MA_IMAGE_HEADERS_MISMATCH);
        }
    }
    for (uint32_t i = 0; i < n_hash; ++i) {
        const uint8_t *e = tab + (size_t)i * MA_IMAGE_HASH_ENTRY_BYTES;
        uint32_t j = 0;
        while (j < n_expected && !name_eq(e, expected[j].name)) {
            ++j;
        }
        if (j == n_expected) { /* the image lists a header this firmware does not have */
            set_mismatch(img, e, NULL);
            return fail(img, MA_IMAGE_HEADERS_MISMATCH);
        }
    }
    img->base = data;
    img->total_size = total;
    img->header_size = header_size;
    img->reason = MA_IMAGE_OK;
    return MA_OK;
}

ma_status ma_image_open(ma_image *img, const uint8_t *data, uint32_t size, uint32_t checks)
{
    return ma_image_open_with(img, data, size, checks, MA_IMAGE_HASHES, MA_IMAGE_NUM_HASHES);
}

ma_status ma_image_placement_at(const ma_image *img, uint32_t i, ma_image_placement *out)
{
    if (img == NULL || out == NULL || img->layout == NULL || i >= img->layout_count) {
        return MA_ERR_ARGUMENT;
    }
    const uint8_t *r = img->layout + (size_t)i * MA_IMAGE_LAYOUT_RECORD_BYTES;
    out->buffer = le32(r);
    out->first_op = le32(r + 4);
    out->offset = le32(r + 8);
    out->size = le32(r + 12);
    return MA_OK;
}

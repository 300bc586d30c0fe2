/* ma_image.h: reader of the device weight image (student_qspi.bin).
 *
 * The image layout is documented at the top of convert/microalign/export/image.py (its writer);
 * the constants and the SHA-256 of the generated headers this firmware is built with come from
 * the generated tflm_app/generated/microalign_image.h. ma_image_open() checks, in this order:
 * size of the fixed header, magic, format version, table counts and header_size, that all
 * total_size bytes are present, the header CRC-32, the payload CRC-32, every section inside the
 * payload and SECTION_ALIGN-aligned, exactly one model section, the model's SHA-256, and that the
 * image's header-hash table equals the firmware's. The first failed check is the result:
 * MA_ERR_IMAGE with img->reason saying which (ma_image_reason_str), or MA_ERR_ARGUMENT.
 *
 * No TFLM types, no allocation; the image is read in place (memory-mapped QSPI or RAM). The
 * flatbuffers Verifier of the model section is the TFLM side's job (it needs C++).
 */
#ifndef MA_IMAGE_READER_H
#define MA_IMAGE_READER_H

#include <stdint.h>

#include "ma_status.h"
#include "microalign_image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MA_IMAGE_OK = 0,
    MA_IMAGE_TRUNCATED,        /* fewer bytes than the header or total_size says */
    MA_IMAGE_BAD_MAGIC,        /* not a microalign weight image */
    MA_IMAGE_BAD_VERSION,      /* another format version */
    MA_IMAGE_BAD_HEADER,       /* counts or header_size out of range */
    MA_IMAGE_HEADER_CORRUPT,   /* header CRC-32 mismatch */
    MA_IMAGE_PAYLOAD_CORRUPT,  /* payload CRC-32 mismatch */
    MA_IMAGE_BAD_SECTION,      /* a section outside the payload or misaligned, or a malformed layout */
    MA_IMAGE_NO_MODEL,         /* not exactly one model section */
    MA_IMAGE_MODEL_CORRUPT,    /* model SHA-256 mismatch */
    MA_IMAGE_HEADERS_MISMATCH  /* built for other generated headers (img->mismatch names one) */
} ma_image_reason;

/* Which checks run (all by default; skipping the hashes saves ~0.2 s per boot on an H743 at the
 * cost of trusting the flash). */
#define MA_IMAGE_CHECK_CRC 1u
#define MA_IMAGE_CHECK_MODEL_SHA256 2u
#define MA_IMAGE_CHECK_ALL (MA_IMAGE_CHECK_CRC | MA_IMAGE_CHECK_MODEL_SHA256)

typedef struct {
    uint32_t buffer;      /* flatbuffer Model.buffers index */
    uint32_t first_op;    /* first operator that reads it; 0xFFFFFFFF when none */
    uint32_t offset;      /* of its data, from the start of the model section */
    uint32_t size;
} ma_image_placement;

typedef struct {
    const uint8_t *base;        /* the image */
    uint32_t total_size;
    uint32_t version;
    uint32_t header_size;
    const uint8_t *model;       /* the device flatbuffer, 64-byte aligned relative to base */
    uint32_t model_size;
    const uint8_t *layout;      /* MA_IMAGE_LAYOUT_RECORD_BYTES per buffer, flash order; NULL if absent */
    uint32_t layout_count;
    ma_image_reason reason;     /* why ma_image_open failed (MA_IMAGE_OK on success) */
    char mismatch[MA_IMAGE_HASH_NAME_BYTES]; /* HEADERS_MISMATCH: the header that differs */
} ma_image;

/* Open the image at data[0..size) against the hashes this firmware was built with
 * (MA_IMAGE_HASHES of microalign_image.h). */
ma_status ma_image_open(ma_image *img, const uint8_t *data, uint32_t size, uint32_t checks);

/* The same against an explicit header-hash table (tests, tools). expected may be NULL when
 * n_expected == 0 (the image must then list no headers). */
ma_status ma_image_open_with(ma_image *img, const uint8_t *data, uint32_t size, uint32_t checks,
                             const ma_image_header_hash *expected, uint32_t n_expected);

/* Layout record i (i < img->layout_count) decoded; MA_ERR_ARGUMENT when out of range. */
ma_status ma_image_placement_at(const ma_image *img, uint32_t i, ma_image_placement *out);

/* A short English description of a reason; never NULL. */
const char *ma_image_reason_str(ma_image_reason r);

#ifdef __cplusplus
}
#endif

#endif /* MA_IMAGE_READER_H */

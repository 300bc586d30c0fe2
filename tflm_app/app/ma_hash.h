/* ma_hash.h: CRC-32 (IEEE 802.3, as zlib.crc32) and SHA-256 (FIPS 180-4, as hashlib.sha256)
 * in plain C99, for the weight image checks at boot. Both stream: call update() on
 * consecutive pieces (e.g. QSPI reads) and get the value of the concatenation.
 * Tested against Python's zlib and hashlib (tests/test_image_c.py). */
#ifndef MA_HASH_H
#define MA_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CRC-32 of data appended to a message whose CRC is crc (start with 0):
 * ma_crc32(ma_crc32(0, a, na), b, nb) == ma_crc32(0, a||b, na + nb). data may be NULL when n == 0. */
uint32_t ma_crc32(uint32_t crc, const void *data, size_t n);

typedef struct {
    uint32_t h[8];
    uint64_t bytes;      /* message length so far */
    uint8_t block[64];   /* pending bytes (bytes % 64 of them) */
} ma_sha256_ctx;

void ma_sha256_init(ma_sha256_ctx *c);
void ma_sha256_update(ma_sha256_ctx *c, const void *data, size_t n);
void ma_sha256_final(ma_sha256_ctx *c, uint8_t digest[32]);
/* One call: digest = SHA-256(data[0..n)). */
void ma_sha256(const void *data, size_t n, uint8_t digest[32]);

#ifdef __cplusplus
}
#endif

#endif /* MA_HASH_H */

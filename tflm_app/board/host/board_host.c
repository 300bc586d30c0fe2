/* board_host.c: board.h on a desktop, for running the firmware's main.c on the host (tests, and a
 * reference run next to QEMU). The "QSPI flash" is the file named by MA_IMAGE, the input block the
 * file named by MA_INPUT (export/image.py write_input_block), external RAM 64 MB of heap, the
 * console stdout, the counter clock(). Build with -DMA_BOARD_HOST (MA_IN_* are then no-ops). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "board.h"
#include "microalign_image.h"

static uint8_t *qspi, *input;
static size_t qspi_size, input_size;
static uint8_t *ext;
#define EXT_BYTES (64u * 1024u * 1024u)

static uint8_t *slurp(const char *path, size_t *size)
{
    *size = 0;
    if (path == NULL) return NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 1u << 20, n = 0, got;
    uint8_t *buf = (uint8_t *)malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *b = (uint8_t *)realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
            }
            buf = b;
        }
    }
    fclose(f);
    *size = n;
    return buf;
}

ma_status ma_board_init(void)
{
    qspi = slurp(getenv("MA_IMAGE"), &qspi_size);
    input = slurp(getenv("MA_INPUT"), &input_size);
    ext = (uint8_t *)malloc(EXT_BYTES);
    return ext ? MA_OK : MA_ERR_IO;
}

uint32_t ma_board_core_hz(void) { return 480000000u; }
uint32_t ma_board_counter(void) { return (uint32_t)clock(); }
uint32_t ma_board_counter_hz(void) { return (uint32_t)CLOCKS_PER_SEC; }
void ma_board_console_write(const char *s, size_t n) { fwrite(s, 1, n, stdout); }
uint32_t ma_board_qspi_size(void) { return (uint32_t)qspi_size; }

ma_status ma_board_qspi_read(uint32_t offset, void *dst, uint32_t n)
{
    if (dst == NULL || offset > qspi_size || n > qspi_size - offset) return MA_ERR_ARGUMENT;
    memcpy(dst, qspi + offset, n);
    return MA_OK;
}

const uint8_t *ma_board_qspi_map(void) { return qspi; }

void *ma_board_ext_ram(uint32_t *size)
{
    if (size) *size = ext ? EXT_BYTES : 0u;
    return ext;
}

static int busy;
ma_status ma_board_dma_start(void *dst, const void *src, uint32_t n)
{
    const uint8_t *d = (const uint8_t *)dst, *s = (const uint8_t *)src;
    if (!dst || !src || busy || (d < s + n && s < d + n)) return MA_ERR_ARGUMENT;
    memcpy(dst, src, n);
    busy = 1;
    return MA_OK;
}
ma_status ma_board_dma_wait(void)
{
    if (!busy) return MA_ERR_ARGUMENT;
    busy = 0;
    return MA_OK;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint32_t pos;

static ma_status block(uint32_t *tb, uint32_t *ns, uint32_t *to, uint32_t *ao)
{
    if (input == NULL || input_size < MA_INPUT_HEADER_BYTES || memcmp(input, MA_INPUT_MAGIC, 8) != 0) return MA_ERR_IO;
    *tb = rd32(input + 12), *ns = rd32(input + 16), *to = rd32(input + 20), *ao = rd32(input + 24);
    if (rd32(input + 8) != 16000u || *to > input_size || *tb > input_size - *to || (*ao & 1u) || *ao > input_size ||
        *ns > (input_size - *ao) / 2u) {
        return MA_ERR_IO;
    }
    return MA_OK;
}

ma_status ma_board_input_text(const char **text, uint32_t *len)
{
    uint32_t tb, ns, to, ao;
    if (!text || !len) return MA_ERR_ARGUMENT;
    ma_status s = block(&tb, &ns, &to, &ao);
    if (s != MA_OK) return s;
    *text = (const char *)input + to;
    *len = tb;
    return MA_OK;
}

ma_status ma_board_audio_read(int16_t *dst, uint32_t max, uint32_t *got)
{
    uint32_t tb, ns, to, ao;
    if (!dst || !got) return MA_ERR_ARGUMENT;
    *got = 0;
    ma_status s = block(&tb, &ns, &to, &ao);
    if (s != MA_OK) return s;
    uint32_t n = ns - pos < max ? ns - pos : max;
    for (uint32_t i = 0; i < n; ++i) { /* little-endian in the block, whatever the host */
        const uint8_t *b = input + ao + 2u * (pos + i);
        dst[i] = (int16_t)(uint16_t)(b[0] | b[1] << 8);
    }
    pos += n;
    *got = n;
    return MA_OK;
}

uint32_t ma_board_audio_length(void)
{
    uint32_t tb, ns, to, ao;
    return block(&tb, &ns, &to, &ao) == MA_OK ? ns : 0u;
}

uint32_t ma_board_stack_used(void) { return 0; }

void ma_board_exit(int code)
{
    fflush(stdout);
    exit(code);
}

/* Board-layer test firmware for QEMU mps2-an500 (tests/test_app_board.py runs it with run.sh, the
 * weight image loaded at 0x60000000 and an input block at 0x60200000): counter, console, QSPI
 * read / memory-map, the image opened in place, external RAM, the named SRAM regions of the memory
 * plan, DMA copy, the input block, stack painting. Prints what the host checks (the transcript, the
 * audio's CRC-32 and sample count, the image status) and returns the number of failed checks. */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "ma_hash.h"
#include "ma_image.h"

#include "ma_check.h"

static uint8_t axi_buf[4096] MA_IN_AXISRAM;
static uint8_t staging[2][1024] MA_IN_SRAM123;
static uint8_t dtcm_buf[256] MA_IN_DTCM;
static int16_t ext_audio[4096] MA_IN_EXTRAM;

static int in_range(const void *p, uint32_t lo, uint32_t size)
{
    uint32_t a = (uint32_t)(uintptr_t)p;
    return a >= lo && a < lo + size;
}

int main(void)
{
    CHECK(ma_board_init() == MA_OK, "init");
    uint32_t t0 = ma_board_counter();
    volatile uint32_t spin = 0;
    for (uint32_t i = 0; i < 2000000u; ++i) spin += i;
    uint32_t t1 = ma_board_counter();
    CHECK(t1 != t0 && ma_board_counter_hz() == 25000000u, "counter %lu -> %lu", (unsigned long)t0, (unsigned long)t1);
    printf("board: counter advanced by %lu ticks\n", (unsigned long)(t1 - t0));

    /* memory plan: the named regions sit where memory_plan.ld puts them and start zeroed */
    CHECK(in_range(axi_buf, 0x20020000u, 512u * 1024u), "AXI SRAM buffer at %p", (void *)axi_buf);
    CHECK(in_range(staging, 0x200A0000u, 288u * 1024u), "SRAM1-3 buffer at %p", (void *)staging);
    CHECK(in_range(dtcm_buf, 0x20000000u, 128u * 1024u), "DTCM buffer at %p", (void *)dtcm_buf);
    CHECK(in_range(ext_audio, 0x60C00000u, 4u * 1024u * 1024u), "external RAM buffer at %p", (void *)ext_audio);
    int zero = 1;
    for (uint32_t i = 0; i < sizeof axi_buf; ++i) zero &= axi_buf[i] == 0;
    for (uint32_t i = 0; i < sizeof staging; ++i) zero &= ((const uint8_t *)staging)[i] == 0;
    CHECK(zero, "AXI SRAM / SRAM1-3 .bss zeroed at reset");

    /* external RAM */
    uint32_t ext_size = 0;
    uint8_t *ext = (uint8_t *)ma_board_ext_ram(&ext_size);
    CHECK(ext == (uint8_t *)0x60C00000u && ext_size == 4u * 1024u * 1024u, "external RAM");
    for (uint32_t i = 0; i < 4096; ++i) ext[ext_size - 4096 + i] = (uint8_t)(i * 7);
    int same = 1;
    for (uint32_t i = 0; i < 4096; ++i) same &= ext[ext_size - 4096 + i] == (uint8_t)(i * 7);
    CHECK(same, "external RAM read back");

    /* QSPI: mapped and indirect reads agree; the image opens in place */
    const uint8_t *q = ma_board_qspi_map();
    CHECK(q == (const uint8_t *)0x60000000u, "QSPI map");
    uint8_t head[80];
    CHECK(ma_board_qspi_read(0, head, sizeof head) == MA_OK && memcmp(head, q, sizeof head) == 0, "QSPI read");
    CHECK(ma_board_qspi_read(ma_board_qspi_size() - 4, head, 8) == MA_ERR_ARGUMENT, "QSPI read past the end");
    ma_image img;
    uint32_t c0 = ma_board_counter();
    ma_status s = ma_image_open(&img, q, ma_board_qspi_size(), MA_IMAGE_CHECK_ALL);
    uint32_t c1 = ma_board_counter();
    printf("image: %s (%s), model %lu bytes, %lu buffers\n", s == MA_OK ? "ok" : "refused",
           ma_image_reason_str(img.reason), (unsigned long)img.model_size, (unsigned long)img.layout_count);
    if (s == MA_OK) printf("image: checks took %lu counter ticks\n", (unsigned long)(c1 - c0));

    /* DMA copy: two staging buffers, as the staged weight mode will use them */
    if (s == MA_OK) {
        CHECK(ma_board_dma_start(staging[0], img.model, sizeof staging[0]) == MA_OK, "dma start");
        CHECK(ma_board_dma_start(staging[1], img.model, 16) == MA_ERR_ARGUMENT, "second dma in flight");
        CHECK(ma_board_dma_wait() == MA_OK && memcmp(staging[0], img.model, sizeof staging[0]) == 0, "dma copy");
    }
    CHECK(ma_board_dma_wait() == MA_ERR_ARGUMENT, "wait without a copy");
    CHECK(ma_board_dma_start(staging[0], staging[0] + 8, 64) == MA_ERR_ARGUMENT, "overlapping dma");

    /* input block: the transcript and the audio, read in chunks into external RAM */
    const char *text = NULL;
    uint32_t text_len = 0;
    if (ma_board_input_text(&text, &text_len) == MA_OK) {
        printf("text: %.*s\n", (int)text_len, text);
        uint32_t total = 0, got = 0, crc = 0, n = ma_board_audio_length();
        while (ma_board_audio_read(ext_audio, 1000, &got) == MA_OK && got > 0) {
            crc = ma_crc32(crc, ext_audio, 2u * got);
            total += got;
        }
        printf("audio: %lu samples of %lu, crc32 %08lx\n", (unsigned long)total, (unsigned long)n, (unsigned long)crc);
        CHECK(total == n, "audio length");
    } else {
        printf("input: none\n");
        CHECK(ma_board_audio_length() == 0, "no input, no audio");
    }

    uint32_t stack = ma_board_stack_used();
    CHECK(stack > 0 && stack < 32u * 1024u, "stack used %lu", (unsigned long)stack);
    printf("stack: %lu bytes used\n", (unsigned long)stack);
    printf("board: %d failures\n", failures);
    return failures;
}

/* sim_main.c: scenarios of the STM32H743 board layer on the simulated register file (reg_sim.c).
 * Results go to stdout as "key value" lines (USART1 output to $MA_SIM_TX), the register log to
 * $MA_SIM_LOG; tests/test_board_stm32h743.py runs them and checks both.
 *   h743_sim init                      ma_board_init
 *   h743_sim plan <rev hex> <hse Hz>   ma_h743_clock_plan_for
 *   h743_sim brr <pclk Hz> <baud>      ma_h743_usart_brr
 *   h743_sim sdram <hclk Hz>           ma_h743_sdram_init alone
 *   h743_sim qspi <file>               init, erase + program + verify the file at offset 0, read it back
 *                                      indirectly and through the memory map
 *   h743_sim input                     init, then the serial input ($MA_SIM_RX) through board.h
 *   h743_sim dma                       init, then MDMA start/wait rules
 *   h743_sim inplace                   init, then the serial input read into the ext-RAM pool itself (the
 *                                      NUCLEO's layout: the pool starts at the block's audio)
 *   h743_sim noflash                   init, then the QSPI functions of board.h (a board without QSPI flash)
 *   h743_sim core                      core_sequence.c (the same as the Cortex-M7 test program) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "board_stm32h743.h"
#include "core_sequence.h"
#include "ma_hash.h"

static uint32_t arg_u32(const char *s) { return (uint32_t)strtoul(s, NULL, 0); }

static int scenario_qspi(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return 2;
    static uint8_t data[65536], back[65536];
    const uint32_t n = (uint32_t)fread(data, 1, sizeof data, f);
    fclose(f);
    const uint32_t unit = MA_H743_QSPI_SUBSECTOR;
    printf("erase %d\n", ma_h743_qspi_erase(0u, (n + unit - 1u) / unit * unit));
    printf("program %d\n", ma_h743_qspi_program(0u, data, n));
    printf("read %d\n", ma_board_qspi_read(0u, back, n));
    printf("read_equal %d\n", memcmp(back, data, n) == 0);
    const uint8_t *map = ma_board_qspi_map();
    printf("mapped %d\n", map != NULL && ma_h743_qspi_mapped());
    printf("map_equal %d\n", map != NULL && memcmp(map, data, n) == 0);
    printf("read_after_map %d\n", ma_board_qspi_read(16u, back, 16u));
    printf("read_after_map_equal %d\n", memcmp(back, data + 16, 16) == 0);
    static const uint32_t odd[][2] = {{1u, 7u}, {2u, 1u}, {5u, 2u}, {3u, 1001u}};
    int odd_equal = 1;
    for (unsigned i = 0; i < sizeof odd / sizeof odd[0]; ++i) {
        memset(back, 0, sizeof back);
        odd_equal &= ma_board_qspi_read(odd[i][0], back, odd[i][1]) == MA_OK &&
                     memcmp(back, data + odd[i][0], odd[i][1]) == 0 && back[odd[i][1]] == 0;
    }
    printf("odd_reads_equal %d\n", odd_equal);
    printf("program_odd %d\n", ma_h743_qspi_program(8192u, data, 33u));
    printf("read_out_of_range %d\n", ma_board_qspi_read(ma_board_qspi_size() - 4u, back, 8u));
    printf("read_null %d\n", ma_board_qspi_read(0u, NULL, 8u));
    printf("erase_unaligned %d\n", ma_h743_qspi_erase(1u, 16u));
    return 0;
}

static int scenario_input(void)
{
    const char *text = NULL;
    uint32_t len = 0;
    ma_status s = ma_board_input_text(&text, &len);
    printf("input_text %d\n", s);
    if (s != MA_OK) return 0;
    printf("text %.*s\n", (int)len, text);
    printf("audio_length %u\n", ma_board_audio_length());
    static int16_t buf[1000];
    uint32_t got = 0, total = 0, crc = 0;
    do {
        s = ma_board_audio_read(buf, 1000u, &got);
        if (s != MA_OK) break;
        crc = ma_crc32(crc, buf, 2u * got);
        total += got;
    } while (got);
    printf("audio_read %d\naudio_samples %u\naudio_crc %u\n", s, total, crc);
    uint32_t ext = 0;
    void *p = ma_board_ext_ram(&ext);
    printf("ext_ram %d %u\n", p != NULL, ext);
    return 0;
}

static int scenario_inplace(void)
{
    uint32_t size = 0;
    uint8_t *ext = (uint8_t *)ma_board_ext_ram(&size);
    printf("ext_ram %d %u\n", ext != NULL, size);
    if (ext == NULL) return 0;
    printf("ext_aligned %d\n", ((uintptr_t)ext & 7u) == 0u);
    const char *text = NULL;
    uint32_t len = 0, got = 0, total = 0, crc = 0;
    printf("input_text %d\n", ma_board_input_text(&text, &len));
    /* a destination overlapping the block that is not the samples' own place is refused */
    printf("overlap %d\n", ma_board_audio_read((int16_t *)(void *)(ext + 2), 100u, &got));
    ma_status s;
    do {
        int16_t *dst = (int16_t *)(void *)ext + total;
        s = ma_board_audio_read(dst, 1000u, &got);
        if (s != MA_OK) break;
        crc = ma_crc32(crc, dst, 2u * got);
        total += got;
    } while (got);
    printf("audio_read %d\naudio_samples %u\naudio_crc %u\n", s, total, crc);
    printf("text %.*s\n", (int)len, text); /* untouched by the in-place reads */
    return 0;
}

static int scenario_noflash(void)
{
    uint8_t buf[16];
    printf("qspi_size %u\n", ma_board_qspi_size());
    printf("qspi_map_null %d\n", ma_board_qspi_map() == NULL);
    printf("qspi_read %d\n", ma_board_qspi_read(0u, buf, sizeof buf));
    return 0;
}

static int scenario_dma(void)
{
    static uint8_t a[200000], b[200000];
    printf("start %d\n", ma_board_dma_start(b, a, 100u));
    printf("second_start %d\n", ma_board_dma_start(b + 1000, a + 1000, 100u));
    printf("wait %d\n", ma_board_dma_wait());
    printf("wait_again %d\n", ma_board_dma_wait());
    printf("overlap %d\n", ma_board_dma_start(a + 10, a, 100u));
    printf("null %d\n", ma_board_dma_start(NULL, a, 100u));
    printf("big_start %d\n", ma_board_dma_start(b, a, (uint32_t)sizeof a));
    printf("big_wait %d\n", ma_board_dma_wait());
    printf("bytes_start %d\n", ma_board_dma_start(b + 1, a, 7u));
    printf("bytes_wait %d\n", ma_board_dma_wait());
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    const char *what = argv[1];
    if (strcmp(what, "plan") == 0 && argc == 4) {
        ma_h743_clock_plan p;
        ma_status s = ma_h743_clock_plan_for((uint32_t)strtoul(argv[2], NULL, 16), arg_u32(argv[3]), &p);
        printf("status %d\n", s);
        if (s == MA_OK) {
            printf("sys_hz %u\nhclk_hz %u\npclk_hz %u\ndivm %u\ndivn %u\ndivp %u\nref_hz %u\nvco_hz %u\nrge %u\n"
                   "vos0 %u\nlatency %u\nwrhighfreq %u\n", p.sys_hz, p.hclk_hz, p.pclk_hz, p.divm, p.divn, p.divp,
                   p.ref_hz, p.vco_hz, p.rge, p.vos0, p.latency, p.wrhighfreq);
        }
        return 0;
    }
    if (strcmp(what, "brr") == 0 && argc == 4) {
        int32_t ppm = 0;
        uint32_t brr = ma_h743_usart_brr(arg_u32(argv[2]), arg_u32(argv[3]), &ppm);
        printf("brr %u\nerror_ppm %d\ninit %d\n", brr, ppm, ma_h743_usart_init(arg_u32(argv[2]), arg_u32(argv[3])));
        return 0;
    }
    if (strcmp(what, "core") == 0) {
        int32_t st[4];
        ma_test_core(st);
        printf("core %d %d %d %d\n", st[0], st[1], st[2], st[3]);
        return 0;
    }
    if (strcmp(what, "sdram") == 0 && argc == 3) {
        printf("sdram %d\n", ma_h743_sdram_init(arg_u32(argv[2])));
        return 0;
    }
    ma_status s = ma_board_init();
    printf("init %d\ncore_hz %u\n", s, ma_board_core_hz());
    if (s != MA_OK) return 0;
    if (strcmp(what, "qspi") == 0 && argc == 3) return scenario_qspi(argv[2]);
    if (strcmp(what, "input") == 0) return scenario_input();
    if (strcmp(what, "dma") == 0) return scenario_dma();
    if (strcmp(what, "inplace") == 0) return scenario_inplace();
    if (strcmp(what, "noflash") == 0) return scenario_noflash();
    return strcmp(what, "init") == 0 ? 0 : 2;
}

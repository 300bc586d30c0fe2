/* h743_qspi.c: QUADSPI (RM0433 23) with the I-EVAL's NOR flash (Micron MT25QL512, two dies in dual-flash
 * mode = MT25TL01G, 128 MB; -DMA_H743_QSPI_DUAL=0 for one 64 MB die on bank 1).
 *
 * Flash commands used (MT25QL512ABB datasheet, "Command Definitions"):
 *   0x66 / 0x99  reset enable / reset memory (sent in 4-4-4 and 1-1-1: the flash may be in either)
 *   0x35         ENTER QUAD I/O MODE (the quad mode: every later command is 4-4-4)
 *   0x65         READ ENHANCED VOLATILE CONFIGURATION: bit 7 = 0 confirms quad I/O protocol
 *   0x06         WRITE ENABLE; 0x05 READ STATUS (bit 0 WIP, bit 1 WEL), polled by the QUADSPI's
 *                automatic-polling mode (both dies at once in dual-flash mode)
 *   0x81 / 0x85  WRITE / READ VOLATILE CONFIGURATION: 10 dummy cycles, XIP off, continuous wrap
 *   0xEC         4-BYTE QUAD I/O FAST READ (4-4-4, 10 dummy cycles): indirect reads and memory-mapped mode
 *   0x12         4-BYTE PAGE PROGRAM (256 B pages per die); 0x21 4-BYTE 4 KB SUBSECTOR ERASE
 *   0x70 / 0x50  READ / CLEAR FLAG STATUS: bit 4 program error, bit 5 erase error, bit 1 protection error
 * Order: QUADSPI clock and pins, CR/DCR, EN; reset; quad mode on and verified; dummy cycles written and
 * verified; only then indirect reads/programs and the memory-mapped mode (refused before: MA_ERR_IO). */
#include <string.h>

#include "board_stm32h743.h"
#include "ma_reg.h"
#include "stm32h743_regs.h"

#define CMD_RESET_ENABLE 0x66u
#define CMD_RESET_MEMORY 0x99u
#define CMD_ENTER_QUAD 0x35u
#define CMD_READ_EVCR 0x65u
#define CMD_WRITE_ENABLE 0x06u
#define CMD_READ_STATUS 0x05u
#define CMD_WRITE_VCR 0x81u
#define CMD_READ_VCR 0x85u
#define CMD_READ_4B_QUAD_IO 0xECu
#define CMD_PAGE_PROGRAM_4B 0x12u
#define CMD_SUBSECTOR_ERASE_4B 0x21u
#define CMD_READ_FLAG_STATUS 0x70u
#define CMD_CLEAR_FLAG_STATUS 0x50u

#define STATUS_WIP 0x01u
#define STATUS_WEL 0x02u
#define FLAG_ERRORS 0x32u /* erase, program, protection */
#define EVCR_QUAD_OFF 0x80u
#define DUMMY_CYCLES 10u
#define VCR_VALUE ((DUMMY_CYCLES << 4) | 0x08u | 0x03u) /* dummy cycles, XIP disabled, continuous wrap */

#define DIES (MA_H743_QSPI_DUAL ? 2u : 1u)
#define TIMEOUT_CMD_US 10000u
#define TIMEOUT_PROGRAM_US 10000u   /* page program: 1.8 ms max */
#define TIMEOUT_ERASE_US 1000000u   /* 4 KB subsector erase: 400 ms max */

#define MODE_WRITE 0u
#define MODE_READ 1u
#define MODE_POLL 2u
#define MODE_MAPPED 3u
#define LINES_NONE 0u
#define LINES_1 1u
#define LINES_4 3u

static int qpi;    /* the flash is in quad I/O protocol (verified) */
static int mapped; /* QUADSPI in memory-mapped mode */
static int ready;  /* init completed */

/* CCR for an instruction: quad lines once the flash is in quad mode, single before. */
static uint32_t ccr(uint32_t instr, uint32_t fmode, int addr, uint32_t dcyc, int data)
{
    const uint32_t l = qpi ? LINES_4 : LINES_1;
    return ma_reg_field(instr, H7_QUADSPI_CCR_INSTRUCTION_Pos) | ma_reg_field(l, H7_QUADSPI_CCR_IMODE_Pos) |
           ma_reg_field(addr ? l : LINES_NONE, H7_QUADSPI_CCR_ADMODE_Pos) |
           ma_reg_field(addr ? 3u : 0u, H7_QUADSPI_CCR_ADSIZE_Pos) | ma_reg_field(dcyc, H7_QUADSPI_CCR_DCYC_Pos) |
           ma_reg_field(data ? l : LINES_NONE, H7_QUADSPI_CCR_DMODE_Pos) | ma_reg_field(fmode, H7_QUADSPI_CCR_FMODE_Pos);
}

static ma_status wait_idle(void) { return ma_reg_wait(H7_QUADSPI_SR, H7_QUADSPI_SR_BUSY, 0u, TIMEOUT_CMD_US); }

/* Finish an indirect command: transfer complete, no transfer error, flags cleared. */
static ma_status finish(void)
{
    ma_status s = ma_reg_wait(H7_QUADSPI_SR, H7_QUADSPI_SR_TCF, H7_QUADSPI_SR_TCF, TIMEOUT_CMD_US);
    const uint32_t sr = ma_reg_read(H7_QUADSPI_SR);
    ma_reg_write(H7_QUADSPI_FCR, H7_QUADSPI_FCR_CTCF | H7_QUADSPI_FCR_CTEF);
    if (s != MA_OK || (sr & H7_QUADSPI_SR_TEF)) return MA_ERR_IO;
    return wait_idle();
}

/* One indirect command: instruction, optional 32-bit address, optional data (written from wr or read into rd). */
static ma_status command(uint32_t instr, int has_addr, uint32_t addr, uint32_t dcyc, const uint8_t *wr, uint8_t *rd,
                         uint32_t n)
{
    ma_status s = wait_idle();
    if (s != MA_OK) return s;
    /* dual-flash mode moves bytes in pairs (DLR[0] forced to 1): an odd count gets one more byte, a 0xFF
     * pad when writing (programming 1s changes nothing), dropped when reading */
    const uint32_t xfer = DIES == 2u && (n & 1u) ? n + 1u : n;
    ma_reg_write(H7_QUADSPI_FCR, H7_QUADSPI_FCR_CTCF | H7_QUADSPI_FCR_CTEF | H7_QUADSPI_FCR_CSMF);
    if (xfer) ma_reg_write(H7_QUADSPI_DLR, xfer - 1u);
    ma_reg_write(H7_QUADSPI_CCR, ccr(instr, rd ? MODE_READ : MODE_WRITE, has_addr, dcyc, xfer != 0u));
    if (has_addr) ma_reg_write(H7_QUADSPI_AR, addr); /* starts the transfer */
    for (uint32_t i = 0; i < xfer; i += 4u) {
        const uint32_t k = i >= n ? 0u : n - i < 4u ? n - i : 4u; /* bytes of the caller's buffer in this word */
        if ((s = ma_reg_wait(H7_QUADSPI_SR, H7_QUADSPI_SR_FTF, H7_QUADSPI_SR_FTF, TIMEOUT_CMD_US)) != MA_OK) return s;
        if (wr) {
            uint32_t w = 0xFFFFFFFFu;
            memcpy(&w, wr + i, k);
            ma_reg_write(H7_QUADSPI_DR, w);
        } else {
            const uint32_t w = ma_reg_read(H7_QUADSPI_DR);
            memcpy(rd + i, &w, k);
        }
    }
    return finish();
}

/* Automatic polling of the status register until (status & mask) == match on every die. */
static ma_status poll_status(uint32_t mask, uint32_t match, uint32_t timeout_us)
{
    ma_status s = wait_idle();
    if (s != MA_OK) return s;
    const uint32_t rep = DIES == 2u ? 0x0101u : 0x01u; /* one status byte per die */
    ma_reg_write(H7_QUADSPI_FCR, H7_QUADSPI_FCR_CSMF | H7_QUADSPI_FCR_CTEF);
    ma_reg_write(H7_QUADSPI_PSMKR, mask * rep);
    ma_reg_write(H7_QUADSPI_PSMAR, match * rep);
    ma_reg_write(H7_QUADSPI_PIR, 0x10u);
    ma_reg_modify(H7_QUADSPI_CR, 0u, H7_QUADSPI_CR_APMS);
    ma_reg_write(H7_QUADSPI_DLR, DIES - 1u);
    ma_reg_write(H7_QUADSPI_CCR, ccr(CMD_READ_STATUS, MODE_POLL, 0, 0u, 1));
    s = ma_reg_wait(H7_QUADSPI_SR, H7_QUADSPI_SR_SMF, H7_QUADSPI_SR_SMF, timeout_us);
    ma_reg_write(H7_QUADSPI_FCR, H7_QUADSPI_FCR_CSMF);
    if (s != MA_OK) {
        ma_reg_modify(H7_QUADSPI_CR, 0u, H7_QUADSPI_CR_ABORT);
        (void)ma_reg_wait(H7_QUADSPI_CR, H7_QUADSPI_CR_ABORT, 0u, TIMEOUT_CMD_US);
        return s;
    }
    return wait_idle();
}

/* A one-byte-per-die register read; MA_OK only when every die returns the same value. */
static ma_status read_reg(uint32_t instr, uint8_t *value)
{
    uint8_t b[2] = {0, 0};
    ma_status s = command(instr, 0, 0u, 0u, NULL, b, DIES);
    if (s != MA_OK) return s;
    if (DIES == 2u && b[0] != b[1]) return MA_ERR_IO;
    *value = b[0];
    return MA_OK;
}

static ma_status write_enable(void)
{
    ma_status s = command(CMD_WRITE_ENABLE, 0, 0u, 0u, NULL, NULL, 0u);
    return s != MA_OK ? s : poll_status(STATUS_WEL, STATUS_WEL, TIMEOUT_CMD_US);
}

static ma_status check_flags(void)
{
    uint8_t f;
    ma_status s = read_reg(CMD_READ_FLAG_STATUS, &f);
    if (s != MA_OK) return s;
    if (f & FLAG_ERRORS) {
        (void)command(CMD_CLEAR_FLAG_STATUS, 0, 0u, 0u, NULL, NULL, 0u);
        return MA_ERR_IO;
    }
    return MA_OK;
}

static const struct {
    uint32_t port, pin, af;
} QSPI_PINS[] = {
    /* STM32H743I-EVAL (MB1246) QUADSPI wiring: CLK PF10, BK1: NCS PG6, IO0 PF8, IO1 PF9, IO2 PF7, IO3 PF6;
     * BK2 (dual-flash): IO0 PH2, IO1 PH3, IO2 PG9, IO3 PG14 (DS12110 Table 9 alternate functions) */
    {H7_GPIOF_BASE, 10, 9}, {H7_GPIOG_BASE, 6, 10}, {H7_GPIOF_BASE, 8, 10}, {H7_GPIOF_BASE, 9, 10},
    {H7_GPIOF_BASE, 7, 9},  {H7_GPIOF_BASE, 6, 9},  {H7_GPIOH_BASE, 2, 9},  {H7_GPIOH_BASE, 3, 9},
    {H7_GPIOG_BASE, 9, 9},  {H7_GPIOG_BASE, 14, 9},
};

ma_status ma_h743_qspi_init(uint32_t hclk_hz)
{
    (void)hclk_hz; /* the prescaler is a board setting (MA_H743_QSPI_PRESCALER) */
    ready = qpi = mapped = 0;
    ma_reg_modify(H7_RCC_AHB4ENR, 0u, 7u * (H7_RCC_AHB4ENR_GPIOAEN << 5)); /* GPIOF, G, H */
    ma_reg_modify(H7_RCC_AHB3ENR, 0u, H7_RCC_AHB3ENR_QSPIEN);
    (void)ma_reg_read(H7_RCC_AHB3ENR);
    const uint32_t npins = MA_H743_QSPI_DUAL ? 10u : 6u;
    for (uint32_t i = 0; i < npins; ++i) ma_h743_gpio_af(QSPI_PINS[i].port, QSPI_PINS[i].pin, QSPI_PINS[i].af, 0u);

    ma_reg_write(H7_QUADSPI_CR, 0u);
    ma_status s = wait_idle();
    if (s != MA_OK) return s;
    uint32_t fsize = 0;
    while ((2u << fsize) < MA_H743_QSPI_BYTES) ++fsize; /* size = 2^(FSIZE + 1) */
    ma_reg_write(H7_QUADSPI_DCR,
                 ma_reg_field(fsize, H7_QUADSPI_DCR_FSIZE_Pos) | ma_reg_field(3u, H7_QUADSPI_DCR_CSHT_Pos));
    ma_reg_write(H7_QUADSPI_CR, ma_reg_field(MA_H743_QSPI_PRESCALER, H7_QUADSPI_CR_PRESCALER_Pos) |
                                    ma_reg_field(3u, H7_QUADSPI_CR_FTHRES_Pos) | H7_QUADSPI_CR_SSHIFT |
                                    (MA_H743_QSPI_DUAL ? H7_QUADSPI_CR_DFM : 0u));
    ma_reg_modify(H7_QUADSPI_CR, 0u, H7_QUADSPI_CR_EN);

    /* reset, in quad then single protocol (after a warm reset the flash may still be in quad mode) */
    for (int q = 1; q >= 0; --q) {
        qpi = q;
        if ((s = command(CMD_RESET_ENABLE, 0, 0u, 0u, NULL, NULL, 0u)) != MA_OK) return s;
        if ((s = command(CMD_RESET_MEMORY, 0, 0u, 0u, NULL, NULL, 0u)) != MA_OK) return s;
        ma_reg_delay_us(100u); /* tSHSL3 reset recovery */
    }
    /* quad mode on, then verified in quad protocol */
    qpi = 0;
    if ((s = command(CMD_ENTER_QUAD, 0, 0u, 0u, NULL, NULL, 0u)) != MA_OK) return s;
    qpi = 1;
    uint8_t v = 0xFFu;
    if ((s = read_reg(CMD_READ_EVCR, &v)) != MA_OK) return s;
    if (v & EVCR_QUAD_OFF) {
        qpi = 0;
        return MA_ERR_IO;
    }
    /* dummy cycles of the fast read, verified */
    const uint8_t vcr[2] = {VCR_VALUE, VCR_VALUE};
    if ((s = write_enable()) != MA_OK) return s;
    if ((s = command(CMD_WRITE_VCR, 0, 0u, 0u, vcr, NULL, DIES)) != MA_OK) return s;
    if ((s = read_reg(CMD_READ_VCR, &v)) != MA_OK) return s;
    if (v != VCR_VALUE) return MA_ERR_IO;
    ready = 1;
    return MA_OK;
}

ma_status ma_h743_qspi_unmap(void)
{
    if (!mapped) return MA_OK;
    ma_reg_modify(H7_QUADSPI_CR, 0u, H7_QUADSPI_CR_ABORT);
    ma_status s = ma_reg_wait(H7_QUADSPI_CR, H7_QUADSPI_CR_ABORT, 0u, TIMEOUT_CMD_US);
    if (s == MA_OK) s = wait_idle();
    if (s == MA_OK) mapped = 0;
    return s;
}

ma_status ma_h743_qspi_map(void)
{
    if (!ready || !qpi) return MA_ERR_IO; /* never memory-mapped before the flash is in quad mode */
    if (mapped) return MA_OK;
    ma_status s = wait_idle();
    if (s != MA_OK) return s;
    ma_reg_write(H7_QUADSPI_FCR, H7_QUADSPI_FCR_CTCF | H7_QUADSPI_FCR_CTEF | H7_QUADSPI_FCR_CSMF);
    ma_reg_write(H7_QUADSPI_CCR, ccr(CMD_READ_4B_QUAD_IO, MODE_MAPPED, 1, DUMMY_CYCLES, 1));
    mapped = 1;
    return MA_OK;
}

int ma_h743_qspi_mapped(void) { return mapped; }

ma_status ma_h743_qspi_read(uint32_t offset, void *dst, uint32_t n)
{
    if (dst == NULL || offset > MA_H743_QSPI_BYTES || n > MA_H743_QSPI_BYTES - offset) return MA_ERR_ARGUMENT;
    if (!ready) return MA_ERR_IO;
    if (n == 0u) return MA_OK;
    ma_status s = ma_h743_qspi_unmap();
    if (s != MA_OK) return s;
    uint8_t *d = (uint8_t *)dst;
    if (DIES == 2u && (offset & 1u)) { /* dual-flash addresses are even (ADDRESS[0] forced to 0) */
        uint8_t pair[2];
        if ((s = command(CMD_READ_4B_QUAD_IO, 1, offset - 1u, DUMMY_CYCLES, NULL, pair, 2u)) != MA_OK) return s;
        *d++ = pair[1];
        ++offset;
        if (--n == 0u) return MA_OK;
    }
    return command(CMD_READ_4B_QUAD_IO, 1, offset, DUMMY_CYCLES, NULL, d, n);
}

ma_status ma_h743_qspi_erase(uint32_t offset, uint32_t n)
{
    if (offset % MA_H743_QSPI_SUBSECTOR || offset > MA_H743_QSPI_BYTES || n > MA_H743_QSPI_BYTES - offset) {
        return MA_ERR_ARGUMENT;
    }
    if (!ready) return MA_ERR_IO;
    ma_status s = ma_h743_qspi_unmap();
    for (uint32_t a = offset; s == MA_OK && a < offset + n; a += MA_H743_QSPI_SUBSECTOR) {
        if ((s = write_enable()) != MA_OK) break;
        if ((s = command(CMD_SUBSECTOR_ERASE_4B, 1, a, 0u, NULL, NULL, 0u)) != MA_OK) break;
        if ((s = poll_status(STATUS_WIP, 0u, TIMEOUT_ERASE_US)) != MA_OK) break;
        s = check_flags();
    }
    return s;
}

ma_status ma_h743_qspi_program(uint32_t offset, const void *src, uint32_t n)
{
    const uint8_t *p = (const uint8_t *)src;
    if (src == NULL || offset % DIES || offset > MA_H743_QSPI_BYTES || n > MA_H743_QSPI_BYTES - offset) {
        return MA_ERR_ARGUMENT;
    }
    if (!ready) return MA_ERR_IO;
    ma_status s = ma_h743_qspi_unmap();
    uint32_t done = 0;
    while (s == MA_OK && done < n) {
        const uint32_t a = offset + done;
        uint32_t k = MA_H743_QSPI_PAGE - a % MA_H743_QSPI_PAGE; /* never across a page boundary */
        if (k > n - done) k = n - done;
        if ((s = write_enable()) != MA_OK) break;
        if ((s = command(CMD_PAGE_PROGRAM_4B, 1, a, 0u, p + done, NULL, k)) != MA_OK) break;
        if ((s = poll_status(STATUS_WIP, 0u, TIMEOUT_PROGRAM_US)) != MA_OK) break;
        if ((s = check_flags()) != MA_OK) break;
        done += k;
    }
    /* verify: read back and compare */
    uint8_t buf[256];
    for (uint32_t i = 0; s == MA_OK && i < n; i += sizeof buf) {
        const uint32_t k = n - i < sizeof buf ? n - i : (uint32_t)sizeof buf;
        s = ma_h743_qspi_read(offset + i, buf, k);
        if (s == MA_OK && memcmp(buf, p + i, k) != 0) s = MA_ERR_IO;
    }
    return s;
}

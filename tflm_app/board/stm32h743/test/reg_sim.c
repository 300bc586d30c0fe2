/* reg_sim.c: the host side of ma_reg.h -- a simulated STM32H743 register file that logs every access.
 *
 * Built with -DMA_REG_HOST together with the board sources (tests/test_board_stm32h743.py). Each access is
 * one line of the log ($MA_SIM_LOG, else stderr):
 *   W <addr> <value>          register write          R <addr> <value>       register read
 *   P <addr> <mask> <value> ok|timeout                 a wait (ma_reg_wait; PA: ma_reg_wait_any)
 *   D <us>                    delay                   B dsb|isb|dmb          barrier
 * Time is simulated (1 us per poll, delays add up), so a wait that can never succeed returns MA_ERR_IO
 * at once. The model makes status bits follow their controls, as the hardware does: HSERDY after HSEON,
 * PLL1RDY after PLL1ON, SWS after SW, ACTVOSRDY after the supply configuration, VOSRDY after VOS/ODEN,
 * TEACK/REACK after TE/RE with UE, MDMA transfer complete after a software request; and a small MT25QL
 * NOR flash behind the QUADSPI (extended-SPI / quad I/O protocol, WEL, volatile configuration, 4-byte
 * reads, page program, subsector erase; a command sent with the wrong line count, or a fast read with
 * the wrong dummy cycles, is not understood, as on the chip).
 * Fault injection: MA_SIM_STUCK=<addr>:<mask> keeps those bits 0, MA_SIM_FORCE=<addr>:<mask> keeps them 1
 * (hex); MA_SIM_IDCODE sets DBGMCU_IDCODE (default 0x20036450: revision V); MA_SIM_RX names a file
 * whose bytes arrive on the console USART's receiver (USART1, USART3 on the NUCLEO); its output goes to $MA_SIM_TX (else stdout). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board_stm32h743.h"
#include "ma_reg.h"
#include "stm32h743_regs.h"

#define NREG 2048
#define SIM_FLASH_BYTES (1u << 20) /* the flash model's size; addresses wrap */

static struct {
    uint32_t addr, value;
} regs[NREG];
static int nregs;
static FILE *log_file;
static uint64_t now_us;
static uint32_t stuck_addr, stuck_mask, force_addr, force_mask;

static uint8_t *rx;
static size_t rx_len, rx_pos;
static FILE *txf;

static uint8_t *sdram;
static uint8_t flash[SIM_FLASH_BYTES];

/* the QSPI transfer in progress and the flash chip */
static struct {
    int active, mapped, reset_enable, qpi, wel;
    uint32_t vcr;
    uint8_t buf[1024];
    uint32_t len, pos; /* data phase: len bytes, pos done */
    int reading;
    uint32_t cmd, addr, imode, dcyc, understood;
} q;

static FILE *out(void) { return log_file ? log_file : stderr; }

static uint32_t hexenv(const char *name, uint32_t *mask)
{
    const char *v = getenv(name);
    if (v == NULL || *v == 0) return 0;
    char *end = NULL;
    uint32_t a = (uint32_t)strtoul(v, &end, 16);
    *mask = end && *end == ':' ? (uint32_t)strtoul(end + 1, NULL, 16) : 0u;
    return a;
}

static void init_once(void)
{
    static int done;
    if (done) return;
    done = 1;
    const char *l = getenv("MA_SIM_LOG");
    if (l && *l) log_file = fopen(l, "w");
    stuck_addr = hexenv("MA_SIM_STUCK", &stuck_mask);
    force_addr = hexenv("MA_SIM_FORCE", &force_mask);
    const char *t = getenv("MA_SIM_TX");
    txf = t && *t ? fopen(t, "wb") : stdout;
    const char *r = getenv("MA_SIM_RX");
    if (r && *r) {
        FILE *f = fopen(r, "rb");
        if (f) {
            fseek(f, 0, SEEK_END);
            rx_len = (size_t)ftell(f);
            fseek(f, 0, SEEK_SET);
            rx = malloc(rx_len ? rx_len : 1);
            if (rx_len && fread(rx, 1, rx_len, f) != rx_len) rx_len = 0;
            fclose(f);
        }
    }
    memset(flash, 0xFF, sizeof flash);
    q.vcr = 0xFBu;
}

static uint32_t *slot(uint32_t addr)
{
    for (int i = 0; i < nregs; ++i)
        if (regs[i].addr == addr) return &regs[i].value;
    if (nregs == NREG) {
        fprintf(stderr, "reg_sim: too many registers\n");
        exit(70);
    }
    regs[nregs].addr = addr;
    uint32_t v = 0;
    if (addr == H7_DBGMCU_IDCODE) {
        const char *id = getenv("MA_SIM_IDCODE");
        v = id && *id ? (uint32_t)strtoul(id, NULL, 16) : 0x20036450u;
    } else if (addr == H7_SCB_CCSIDR) {
        v = 0xF00FE019u; /* Cortex-M7 16 KB D-cache: 128 sets, 4 ways, 32-byte lines */
    } else if (addr == H7_RCC_CR) {
        v = 0x00000025u; /* HSION, HSIRDY, HSIDIV /1 (reset value) */
    }
    regs[nregs].value = v;
    return &regs[nregs++].value;
}

/* ---- the NOR flash behind the QUADSPI ---- */
static uint32_t dies(void) { return (*slot(H7_QUADSPI_CR) & H7_QUADSPI_CR_DFM) ? 2u : 1u; }

static void reply_reg(uint8_t v)
{
    for (uint32_t i = 0; i < q.len && i < sizeof q.buf; ++i) q.buf[i] = v;
}

static void qspi_complete(void)
{
    q.active = 0;
    *slot(H7_QUADSPI_SR) |= H7_QUADSPI_SR_TCF;
}

/* a write command's data has fully arrived (or there was none) */
static void flash_execute_write(void)
{
    if (!q.understood) return;
    switch (q.cmd) {
    case 0x66: q.reset_enable = 1; return;
    case 0x99:
        if (q.reset_enable) q.qpi = q.wel = 0, q.vcr = 0xFBu;
        q.reset_enable = 0;
        return;
    case 0x35: q.qpi = 1; return;
    case 0x06: q.wel = 1; return;
    case 0x04: q.wel = 0; return;
    case 0x81:
        if (q.wel) q.vcr = q.buf[0];
        q.wel = 0;
        return;
    case 0x12:
        if (q.wel)
            for (uint32_t i = 0; i < q.len; ++i) flash[(q.addr + i) % SIM_FLASH_BYTES] &= q.buf[i];
        q.wel = 0;
        return;
    case 0x21:
        if (q.wel) {
            const uint32_t unit = 4096u * dies(), a = q.addr / unit * unit;
            for (uint32_t i = 0; i < unit; ++i) flash[(a + i) % SIM_FLASH_BYTES] = 0xFF;
        }
        q.wel = 0;
        return;
    default: return;
    }
}

static void flash_prepare_read(void)
{
    memset(q.buf, 0xFF, sizeof q.buf); /* nobody drives the lines: 0xFF */
    if (!q.understood) return;
    switch (q.cmd) {
    case 0x65: reply_reg(q.qpi ? 0x7Fu : 0xFFu); return;
    case 0x85: reply_reg((uint8_t)q.vcr); return;
    case 0x05: reply_reg((uint8_t)(q.wel << 1)); return;
    case 0x70: reply_reg(0x80u); return;
    case 0xEC:
        for (uint32_t i = 0; i < q.len && i < sizeof q.buf; ++i)
            q.buf[i] = q.dcyc == (q.vcr >> 4) ? flash[(q.addr + i) % SIM_FLASH_BYTES] : 0xA5u;
        return;
    default: return;
    }
}

static void qspi_start(void)
{
    const uint32_t ccr = *slot(H7_QUADSPI_CCR);
    const uint32_t fmode = (ccr & H7_QUADSPI_CCR_FMODE) >> H7_QUADSPI_CCR_FMODE_Pos;
    const uint32_t dmode = (ccr & H7_QUADSPI_CCR_DMODE) >> H7_QUADSPI_CCR_DMODE_Pos;
    q.cmd = ccr & 0xFFu;
    q.imode = (ccr & H7_QUADSPI_CCR_IMODE) >> H7_QUADSPI_CCR_IMODE_Pos;
    q.dcyc = (ccr & H7_QUADSPI_CCR_DCYC) >> H7_QUADSPI_CCR_DCYC_Pos;
    q.addr = *slot(H7_QUADSPI_AR);
    q.understood = q.imode == (q.qpi ? 3u : 1u);
    q.len = dmode ? *slot(H7_QUADSPI_DLR) + 1u : 0u;
    if (q.len > sizeof q.buf && fmode != 1u) q.len = sizeof q.buf;
    q.pos = 0;
    q.active = 1;
    q.reading = fmode == 1u;
    if (fmode == 2u) { /* automatic polling: the status is ready at once */
        q.len = dies();
        flash_prepare_read();
        uint32_t status = q.buf[0] | (dies() == 2u ? (uint32_t)q.buf[1] << 8 : 0u);
        if ((status & *slot(H7_QUADSPI_PSMKR)) == *slot(H7_QUADSPI_PSMAR)) *slot(H7_QUADSPI_SR) |= H7_QUADSPI_SR_SMF;
        q.active = 0;
        return;
    }
    if (q.reading) {
        flash_prepare_read();
    } else if (q.len == 0u) {
        flash_execute_write();
        qspi_complete();
    }
}

static uint32_t qspi_read_dr(void)
{
    uint32_t w = 0;
    for (uint32_t i = 0; i < 4u && q.pos < q.len; ++i, ++q.pos) {
        uint8_t b = q.cmd == 0xECu && q.understood && q.dcyc == (q.vcr >> 4) ? flash[(q.addr + q.pos) % SIM_FLASH_BYTES]
                                                                               : q.buf[q.pos % sizeof q.buf];
        w |= (uint32_t)b << (8u * i);
    }
    if (q.pos >= q.len) qspi_complete();
    return w;
}

static void qspi_write_dr(uint32_t w)
{
    for (uint32_t i = 0; i < 4u && q.pos < q.len; ++i, ++q.pos) q.buf[q.pos] = (uint8_t)(w >> (8u * i));
    if (q.pos >= q.len) {
        flash_execute_write();
        qspi_complete();
    }
}

/* ---- reads and writes ---- */
static uint32_t model_read(uint32_t addr)
{
    uint32_t *r = slot(addr);
    if (addr == H7_QUADSPI_SR) {
        uint32_t v = *r & (H7_QUADSPI_SR_TCF | H7_QUADSPI_SR_SMF | H7_QUADSPI_SR_TEF);
        if (q.active && q.pos < q.len) v |= H7_QUADSPI_SR_FTF;
        if (q.active || q.mapped) v |= H7_QUADSPI_SR_BUSY;
        return v;
    }
    if (addr == H7_QUADSPI_DR) return q.active && q.reading ? qspi_read_dr() : 0u;
    if (addr == MA_H743_CON(ISR)) {
        const uint32_t cr1 = *slot(MA_H743_CON(CR1));
        uint32_t v = H7_USART_ISR_TXE_TXFNF | H7_USART_ISR_TC;
        if ((cr1 & H7_USART_CR1_UE) && (cr1 & H7_USART_CR1_TE)) v |= H7_USART_ISR_TEACK;
        if ((cr1 & H7_USART_CR1_UE) && (cr1 & H7_USART_CR1_RE)) v |= H7_USART_ISR_REACK;
        if ((cr1 & H7_USART_CR1_UE) && (cr1 & H7_USART_CR1_RE) && rx_pos < rx_len) v |= H7_USART_ISR_RXNE_RXFNE;
        return v;
    }
    if (addr == MA_H743_CON(RDR)) return rx_pos < rx_len ? rx[rx_pos++] : 0u;
    if (addr == H7_DWT_CYCCNT) return ma_reg_host_cycles();
    return *r;
}

static uint32_t faulted(uint32_t addr, uint32_t v)
{
    if (addr == stuck_addr) v &= ~stuck_mask;
    if (addr == force_addr) v |= force_mask;
    return v;
}

uint32_t ma_reg_host_read(uint32_t addr)
{
    init_once();
    uint32_t v = faulted(addr, model_read(addr));
    fprintf(out(), "R %08x %08x\n", addr, v);
    return v;
}

void ma_reg_host_write(uint32_t addr, uint32_t v)
{
    init_once();
    fprintf(out(), "W %08x %08x\n", addr, v);
    uint32_t *r = slot(addr);
    switch (addr) {
    case H7_RCC_CR:
        v &= ~(H7_RCC_CR_HSERDY | H7_RCC_CR_PLL1RDY);
        if (v & H7_RCC_CR_HSEON) v |= H7_RCC_CR_HSERDY;
        if (v & H7_RCC_CR_PLL1ON) v |= H7_RCC_CR_PLL1RDY;
        break;
    case H7_RCC_CFGR: v = (v & ~H7_RCC_CFGR_SWS) | (v & H7_RCC_CFGR_SW) << H7_RCC_CFGR_SWS_Pos; break;
    case H7_PWR_CR3: *slot(H7_PWR_CSR1) |= H7_PWR_CSR1_ACTVOSRDY; break;
    case H7_PWR_D3CR: v |= H7_PWR_D3CR_VOSRDY; break;
    case H7_QUADSPI_CR:
        if (v & H7_QUADSPI_CR_ABORT) {
            q.active = q.mapped = 0;
            v &= ~H7_QUADSPI_CR_ABORT;
        }
        break;
    case H7_QUADSPI_FCR:
        *slot(H7_QUADSPI_SR) &= ~(v & (H7_QUADSPI_SR_TEF | H7_QUADSPI_SR_TCF | H7_QUADSPI_SR_SMF));
        break;
    case H7_QUADSPI_DR: qspi_write_dr(v); return;
    case H7_QUADSPI_AR: /* dual-flash mode: ADDRESS[0] forced to 0 */
    case H7_QUADSPI_DLR: /* dual-flash mode: DLR[0] forced to 1 */
        if (*slot(H7_QUADSPI_CR) & H7_QUADSPI_CR_DFM) v = addr == H7_QUADSPI_AR ? v & ~1u : v | 1u;
        break;
    case MA_H743_CON(TDR): fputc((int)(v & 0xFFu), txf); fflush(txf); return;
    case H7_MDMA_C0_CIFCR: *slot(H7_MDMA_C0_CISR) &= ~(v & 0x1Fu); break;
    case H7_MDMA_C0_CCR:
        if ((v & H7_MDMA_CCR_EN) && (v & H7_MDMA_CCR_SWRQ)) { /* a software request: the block is copied at once */
            *slot(H7_MDMA_C0_CISR) |= H7_MDMA_CISR_CTCIF | H7_MDMA_CISR_BTIF | H7_MDMA_CISR_BRTIF | H7_MDMA_CISR_TCIF;
        }
        v &= ~H7_MDMA_CCR_SWRQ; /* write-only: reads 0 */
        break;
    default: break;
    }
    *r = v;
    if (addr == H7_QUADSPI_CCR) {
        const uint32_t fmode = (v & H7_QUADSPI_CCR_FMODE) >> H7_QUADSPI_CCR_FMODE_Pos;
        if (fmode == 3u) {
            q.mapped = 1;
        } else if (((v & H7_QUADSPI_CCR_ADMODE) == 0u) || fmode == 2u) {
            qspi_start();
        }
    } else if (addr == H7_QUADSPI_AR) {
        qspi_start();
    }
}

void ma_reg_host_barrier(const char *kind)
{
    init_once();
    fprintf(out(), "B %s\n", kind);
}

uint32_t ma_reg_host_cycles(void) { return (uint32_t)(now_us * (ma_reg_core_hz / 1000000u)); }

void *ma_reg_host_mem(uint32_t addr)
{
    init_once();
    if (addr >= H7_QSPI_BASE && addr < H7_QSPI_BASE + SIM_FLASH_BYTES) return flash + (addr - H7_QSPI_BASE);
    const uint32_t sd = MA_H743_SDRAM_BANK == 1 ? H7_FMC_SDRAM_BANK1_BASE : H7_FMC_SDRAM_BANK2_BASE;
    if (addr >= sd && addr < sd + MA_H743_SDRAM_BYTES) {
        if (sdram == NULL) sdram = calloc(MA_H743_SDRAM_BYTES, 1);
        return sdram + (addr - sd);
    }
    fprintf(stderr, "reg_sim: no memory at 0x%08x\n", addr);
    exit(70);
}

static ma_status wait(const char *tag, uint32_t addr, uint32_t mask, uint32_t value, int any, uint32_t timeout_us)
{
    init_once();
    const uint32_t r = faulted(addr, model_read(addr)) & mask;
    const int ok = any ? r != 0u : r == value;
    now_us += ok ? 1u : timeout_us; /* nothing changes while waiting: an unmet condition times out */
    fprintf(out(), "%s %08x %08x %08x %s\n", tag, addr, mask, value, ok ? "ok" : "timeout");
    return ok ? MA_OK : MA_ERR_IO;
}

ma_status ma_reg_wait(uint32_t addr, uint32_t mask, uint32_t value, uint32_t timeout_us)
{
    return wait("P", addr, mask, value, 0, timeout_us);
}

ma_status ma_reg_wait_any(uint32_t addr, uint32_t mask, uint32_t timeout_us)
{
    return wait("PA", addr, mask, 0u, 1, timeout_us);
}

void ma_reg_delay_us(uint32_t us)
{
    init_once();
    now_us += us;
    fprintf(out(), "D %u\n", us);
}

"""The STM32H743 board layer's initialisation sequences, checked on the host without a board.

tflm_app/board/stm32h743/*.c are compiled with -DMA_REG_HOST against a simulated register file
(board/stm32h743/test/reg_sim.c) that logs every register access; the tests check the logs against the
orders RM0433 requires (VOS before the PLL, wait states before the switch, quad mode before memory-mapped
mode, the JEDEC SDRAM sequence, USART BRR before UE, MPU before caches) and that a peripheral that never
becomes ready gives MA_ERR_IO instead of a hang. The same sources build warning-free for the Cortex-M7.
"""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
BOARD = REPO / "tflm_app" / "board" / "stm32h743"
SOURCES = sorted(p for p in BOARD.glob("*.c") if p.name != "startup_stm32h743.c")
INCLUDES = [BOARD, REPO / "tflm_app" / "board", REPO / "tflm_app" / "kernels", REPO / "tflm_app" / "app",
            REPO / "tflm_app" / "generated"]
MA_OK, MA_ERR_ARGUMENT, MA_ERR_IO = 0, -1, -7


def _regs() -> dict[str, int]:
    """Every H7_* value of stm32h743_regs.h, evaluated."""
    defs = dict(re.findall(r"^#define\s+(H7_\w+)\s+(.+?)\s*(?:/\*.*)?$", (BOARD / "stm32h743_regs.h").read_text(), re.M))
    out: dict[str, int] = {}

    def value(name: str) -> int:
        if name not in out:
            expr = re.sub(r"\b(0x[0-9A-Fa-f]+|\d+)u\b", r"\1", defs[name])
            expr = re.sub(r"\bH7_\w+\b", lambda m: str(value(m.group(0))), expr)
            out[name] = int(eval(expr, {"__builtins__": {}}))  # noqa: S307 -- integer expressions of our header
        return out[name]

    for n in defs:
        value(n)
    return out


R = _regs()


class Log:
    """A register log: entries (kind, fields...) in order."""

    def __init__(self, text: str):
        self.e = []
        for line in text.splitlines():
            k, *f = line.split()
            if k in ("W", "R"):
                self.e.append((k, int(f[0], 16), int(f[1], 16)))
            elif k in ("P", "PA"):
                self.e.append((k, int(f[0], 16), int(f[1], 16), int(f[2], 16), f[3]))
            elif k == "D":
                self.e.append((k, int(f[0])))
            else:
                self.e.append((k, f[0]))

    def writes(self, addr: int) -> list[tuple[int, int]]:
        return [(i, e[2]) for i, e in enumerate(self.e) if e[0] == "W" and e[1] == addr]

    def first_write(self, addr: int, pred=lambda v: True, after: int = -1) -> int:
        for i, v in self.writes(addr):
            if i > after and pred(v):
                return i
        raise AssertionError(f"no matching write to {addr:#010x} after entry {after}")

    def wait(self, addr: int, mask: int, value: int | None = None, after: int = -1) -> int:
        for i, e in enumerate(self.e):
            if i > after and e[0] in ("P", "PA") and e[1] == addr and e[2] & mask == mask and \
                    (value is None or e[3] == value) and e[4] == "ok":
                return i
        raise AssertionError(f"no successful wait on {addr:#010x} mask {mask:#x} after entry {after}")

    def last_value(self, addr: int, before: int) -> int:
        v = 0
        for i, w in self.writes(addr):
            if i < before:
                v = w
        return v


def _build_sim(tmp_path_factory, *defines: str) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    out = tmp_path_factory.mktemp("h743") / "h743_sim"
    cmd = ["gcc", "-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Wshadow", "-Werror", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=all", "-DMA_REG_HOST", *defines, *(f"-I{p}" for p in INCLUDES),
           *map(str, SOURCES), str(BOARD / "test" / "reg_sim.c"), str(BOARD / "test" / "sim_main.c"),
           str(BOARD / "test" / "core_sequence.c"),
           str(REPO / "tflm_app" / "app" / "ma_hash.c"), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> Path:
    """The STM32H743I-EVAL build (the default board variant)."""
    return _build_sim(tmp_path_factory)


@pytest.fixture(scope="module")
def sim_nucleo(tmp_path_factory) -> Path:
    """The NUCLEO-H743ZI build (-DMA_BOARD_NUCLEO_H743ZI)."""
    return _build_sim(tmp_path_factory, "-DMA_BOARD_NUCLEO_H743ZI")


def run(sim: Path, tmp: Path, *args: str, **env: str) -> tuple[dict[str, str], Log, bytes]:
    log, tx = tmp / "regs.log", tmp / "tx.bin"
    full = {"MA_SIM_LOG": str(log), "MA_SIM_TX": str(tx), "PATH": "/usr/bin:/bin", "ASAN_OPTIONS": "detect_leaks=0", **env}
    r = subprocess.run([str(sim), *args], capture_output=True, text=True, env=full, timeout=60)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    res = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    return res, Log(log.read_text() if log.exists() else ""), tx.read_bytes() if tx.exists() else b""


def field(v: int, name: str) -> int:
    mask = R[name]
    return (v & mask) >> ((mask & -mask).bit_length() - 1)


# ---------------------------------------------------------------- clock tree and power


def test_clock_sequence_revision_v(sim, tmp_path):
    res, log, _ = run(sim, tmp_path, "init")
    assert res["init"] == "0" and res["core_hz"] == "480000000"
    supply = log.first_write(R["H7_PWR_CR3"], lambda v: v & R["H7_PWR_CR3_LDOEN"] and
                             not v & (R["H7_PWR_CR3_SCUEN"] | R["H7_PWR_CR3_BYPASS"]))
    actvos = log.wait(R["H7_PWR_CSR1"], R["H7_PWR_CSR1_ACTVOSRDY"], after=supply)
    vos1 = log.first_write(R["H7_PWR_D3CR"], lambda v: field(v, "H7_PWR_D3CR_VOS") == 3, after=actvos)
    vosrdy1 = log.wait(R["H7_PWR_D3CR"], R["H7_PWR_D3CR_VOSRDY"], after=vos1)
    syscfg_clock = log.first_write(R["H7_RCC_APB4ENR"], lambda v: v & R["H7_RCC_APB4ENR_SYSCFGEN"])
    oden = log.first_write(R["H7_SYSCFG_PWRCR"], lambda v: v & R["H7_SYSCFG_PWRCR_ODEN"], after=vosrdy1)
    assert syscfg_clock < oden
    vosrdy0 = log.wait(R["H7_PWR_D3CR"], R["H7_PWR_D3CR_VOSRDY"], after=oden)
    hse = log.first_write(R["H7_RCC_CR"], lambda v: v & R["H7_RCC_CR_HSEON"])
    hserdy = log.wait(R["H7_RCC_CR"], R["H7_RCC_CR_HSERDY"], after=hse)
    pllon = log.first_write(R["H7_RCC_CR"], lambda v: v & R["H7_RCC_CR_PLL1ON"])
    assert vosrdy0 < pllon and hserdy < pllon, "VOS0 and HSE must be ready before PLL1 starts"
    # PLL1: 25 MHz / 5 = 5 MHz (range 4-8 MHz), x 192 = 960 MHz (wide VCO), / 2 = 480 MHz
    ck = log.last_value(R["H7_RCC_PLLCKSELR"], pllon)
    assert field(ck, "H7_RCC_PLLCKSELR_DIVM1") == 5 and field(ck, "H7_RCC_PLLCKSELR_PLLSRC") == 2
    div = log.last_value(R["H7_RCC_PLL1DIVR"], pllon)
    assert field(div, "H7_RCC_PLL1DIVR_N1") + 1 == 192 and field(div, "H7_RCC_PLL1DIVR_P1") + 1 == 2
    cfg = log.last_value(R["H7_RCC_PLLCFGR"], pllon)
    assert field(cfg, "H7_RCC_PLLCFGR_PLL1RGE") == 2 and not cfg & R["H7_RCC_PLLCFGR_PLL1VCOSEL"]
    assert cfg & R["H7_RCC_PLLCFGR_DIVP1EN"] and not cfg & R["H7_RCC_PLLCFGR_PLL1FRACEN"]
    pllrdy = log.wait(R["H7_RCC_CR"], R["H7_RCC_CR_PLL1RDY"], R["H7_RCC_CR_PLL1RDY"], after=pllon)
    switch = log.first_write(R["H7_RCC_CFGR"], lambda v: field(v, "H7_RCC_CFGR_SW") == 3)
    assert pllrdy < switch, "SYSCLK switched to PLL1 before PLL1RDY"
    # flash: 4 wait states, WRHIGHFREQ 2 for 240 MHz AXI at VOS0, written and read back BEFORE the switch
    acr = log.first_write(R["H7_FLASH_ACR"], lambda v: field(v, "H7_FLASH_ACR_LATENCY") == 4 and
                          field(v, "H7_FLASH_ACR_WRHIGHFREQ") == 2)
    assert acr < switch
    assert any(e[:2] == ("R", R["H7_FLASH_ACR"]) for e in log.e[acr:switch])
    d1 = log.last_value(R["H7_RCC_D1CFGR"], switch)
    assert (field(d1, "H7_RCC_D1CFGR_D1CPRE"), field(d1, "H7_RCC_D1CFGR_HPRE"), field(d1, "H7_RCC_D1CFGR_D1PPRE")) == (0, 8, 4)
    d2 = log.last_value(R["H7_RCC_D2CFGR"], switch)
    assert field(d2, "H7_RCC_D2CFGR_D2PPRE1") == 4 and field(d2, "H7_RCC_D2CFGR_D2PPRE2") == 4
    assert field(log.last_value(R["H7_RCC_D3CFGR"], switch), "H7_RCC_D3CFGR_D3PPRE") == 4
    log.wait(R["H7_RCC_CFGR"], R["H7_RCC_CFGR_SWS"], 3 << 3, after=switch)


def test_clock_older_revision_runs_400mhz_at_vos1(sim, tmp_path):
    res, log, _ = run(sim, tmp_path, "init", MA_SIM_IDCODE="10036450")  # revision Y
    assert res["init"] == "0" and res["core_hz"] == "400000000"
    assert not [v for _, v in log.writes(R["H7_SYSCFG_PWRCR"]) if v & R["H7_SYSCFG_PWRCR_ODEN"]], "ODEN on revision Y"
    switch = log.first_write(R["H7_RCC_CFGR"], lambda v: field(v, "H7_RCC_CFGR_SW") == 3)
    acr = log.last_value(R["H7_FLASH_ACR"], switch)
    assert field(acr, "H7_FLASH_ACR_LATENCY") == 2 and field(acr, "H7_FLASH_ACR_WRHIGHFREQ") == 2  # 200 MHz AXI, VOS1


def test_not_an_h743_is_refused(sim, tmp_path):
    res, log, _ = run(sim, tmp_path, "init", MA_SIM_IDCODE="20036483")  # another device id
    assert res["init"] == str(MA_ERR_IO)
    assert not log.writes(R["H7_RCC_CFGR"])


@pytest.mark.parametrize("hse", [8_000_000, 12_000_000, 16_000_000, 24_000_000, 25_000_000, 26_000_000])
@pytest.mark.parametrize("rev, sys_hz", [("2003", 480_000_000), ("1003", 400_000_000)])
def test_clock_plan_within_limits(sim, tmp_path, hse, rev, sys_hz):
    res, _, _ = run(sim, tmp_path, "plan", rev, str(hse))
    p = {k: int(v) for k, v in res.items()}
    assert p["status"] == 0
    assert p["sys_hz"] == sys_hz and p["hclk_hz"] == sys_hz // 2 and p["pclk_hz"] == sys_hz // 4
    assert p["ref_hz"] * p["divm"] == hse and p["ref_hz"] * p["divn"] == p["vco_hz"] == sys_hz * p["divp"]
    lo, hi = {1: (2e6, 4e6), 2: (4e6, 8e6), 3: (8e6, 16e6)}[p["rge"]]
    assert lo <= p["ref_hz"] <= hi
    assert 192e6 <= p["vco_hz"] <= (960e6 if rev == "2003" else 836e6)
    assert p["hclk_hz"] <= 240e6 and p["pclk_hz"] <= 120e6


def test_clock_plan_rejects_bad_hse(sim, tmp_path):
    assert run(sim, tmp_path, "plan", "2003", "1000000")[0]["status"] == str(MA_ERR_ARGUMENT)
    assert run(sim, tmp_path, "plan", "2003", "60000000")[0]["status"] == str(MA_ERR_ARGUMENT)


# ---------------------------------------------------------------- MPU and caches


def test_mpu_configured_before_caches(sim, tmp_path):
    _, log, _ = run(sim, tmp_path, "init")
    ctrl_on = log.first_write(R["H7_MPU_CTRL"], lambda v: v & R["H7_MPU_CTRL_ENABLE"])
    ctrl_off = log.first_write(R["H7_MPU_CTRL"], lambda v: v == 0)
    assert ctrl_off < ctrl_on
    assert [e[1] for e in log.e[ctrl_on + 1:ctrl_on + 3]] == ["dsb", "isb"]
    ic_inval = log.first_write(R["H7_SCB_ICIALLU"])
    ic_on = log.first_write(R["H7_SCB_CCR"], lambda v: v & R["H7_SCB_CCR_IC"])
    dc_on = log.first_write(R["H7_SCB_CCR"], lambda v: v & R["H7_SCB_CCR_DC"])
    assert ctrl_on < ic_inval < ic_on < dc_on
    dcisw = log.writes(R["H7_SCB_DCISW"])
    assert len({v for _, v in dcisw}) == 128 * 4 and max(i for i, _ in dcisw) < dc_on
    assert ("B", "dsb") in log.e[max(i for i, _ in dcisw):dc_on]
    # region attributes (RASR after each RNR)
    regions = {}
    for i, n in log.writes(R["H7_MPU_RNR"]):
        if i < ctrl_on:
            base = log.e[i + 1][2]
            rasr = log.e[i + 2][2]
            regions[base, (rasr >> 1) & 31] = rasr

    def attr(rasr):  # (AP, TEX, C, B)
        return (rasr >> 24) & 7, (rasr >> 19) & 7, (rasr >> 17) & 1, (rasr >> 16) & 1

    assert attr(regions[0x90000000, 27]) == (0, 0, 0, 0)    # 256 MB window: no access, strongly ordered
    assert attr(regions[0x90000000, 26]) == (6, 0, 1, 0)    # 128 MB flash: read-only, write-through cacheable
    assert attr(regions[0x30000000, 18]) == (3, 1, 0, 0)    # SRAM1-3: non-cacheable normal memory
    assert attr(regions[0xD0000000, 24]) == (3, 1, 1, 1)    # SDRAM bank 2: write-back write-allocate


# ---------------------------------------------------------------- USART1


def test_usart_brr_written_while_disabled_then_enabled(sim, tmp_path):
    _, log, _ = run(sim, tmp_path, "init")
    clock = log.first_write(R["H7_RCC_APB2ENR"], lambda v: v & R["H7_RCC_APB2ENR_USART1EN"])
    brr = log.first_write(R["H7_USART1_BRR"])
    assert log.writes(R["H7_USART1_BRR"])[0][1] == 130  # 120 MHz / 921600 = 130.2
    assert clock < brr and not log.last_value(R["H7_USART1_CR1"], brr) & R["H7_USART_CR1_UE"]
    ue = log.first_write(R["H7_USART1_CR1"], lambda v: v & R["H7_USART_CR1_UE"])
    assert brr < ue and log.e[ue][2] & R["H7_USART_CR1_TE"] and log.e[ue][2] & R["H7_USART_CR1_RE"]
    assert not log.e[ue][2] & R["H7_USART_CR1_OVER8"]
    log.wait(R["H7_USART1_ISR"], R["H7_USART_ISR_TEACK"] | R["H7_USART_ISR_REACK"], after=ue)
    afrh = log.last_value(R["H7_GPIOB_BASE"] + R["H7_GPIO_AFRH"], ue)
    assert (afrh >> 24) & 15 == 4 and (afrh >> 28) & 15 == 4  # PB14, PB15: AF4 (USART1)
    moder = log.last_value(R["H7_GPIOB_BASE"] + R["H7_GPIO_MODER"], ue)
    assert (moder >> 28) & 3 == 2 and (moder >> 30) & 3 == 2


@pytest.mark.parametrize("pclk, baud, brr, ppm, status", [
    (120_000_000, 921_600, 130, 1602, 0),       # +0.16 %
    (100_000_000, 921_600, 109, -4523, 0),      # -0.45 % (400 MHz parts)
    (120_000_000, 2_000_000, 60, 0, 0),
    (100_000_000, 6_000_000, 17, -19608, -1),   # -1.96 %: refused
    (120_000_000, 10_000_000, 12, 0, -1),       # BRR < 16 with oversampling by 16: refused
])
def test_usart_baud_error(sim, tmp_path, pclk, baud, brr, ppm, status):
    res, _, _ = run(sim, tmp_path, "brr", str(pclk), str(baud))
    assert int(res["brr"]) == brr and abs(int(res["error_ppm"]) - ppm) <= 1 and int(res["init"]) == status
    actual = pclk / brr
    assert abs((actual - baud) / baud * 1e6 - int(res["error_ppm"])) <= 1


# ---------------------------------------------------------------- FMC SDRAM


def _sdram_checks(log: Log, sdclk: float):
    cmds = log.writes(R["H7_FMC_SDCMR"])
    assert [field(v, "H7_FMC_SDCMR_MODE") for _, v in cmds] == [1, 2, 3, 4], "JEDEC order: CKE, PALL, refresh, LMR"
    assert all(v & R["H7_FMC_SDCMR_CTB2"] and not v & R["H7_FMC_SDCMR_CTB1"] for _, v in cmds)
    fmcen = log.first_write(R["H7_FMC_BCR1"], lambda v: v & R["H7_FMC_BCR1_FMCEN"])
    for reg in ("H7_FMC_SDCR1", "H7_FMC_SDCR2", "H7_FMC_SDTR1", "H7_FMC_SDTR2"):
        assert log.first_write(R[reg]) < fmcen < cmds[0][0]
    waited = sum(e[1] for e in log.e[cmds[0][0]:cmds[1][0]] if e[0] == "D")
    assert waited >= 100, "at least 100 us between clock enable and PALL"
    assert field(cmds[2][1], "H7_FMC_SDCMR_NRFS") + 1 == 8
    assert field(cmds[3][1], "H7_FMC_SDCMR_MRD") == 0x230  # burst 1, sequential, CAS 3, single write burst
    rtr = log.first_write(R["H7_FMC_SDRTR"])
    assert rtr > cmds[3][0]
    assert field(log.e[rtr][2], "H7_FMC_SDRTR_COUNT") == int(64e-3 * sdclk / 4096) - 20
    sdcr1, sdcr2 = log.writes(R["H7_FMC_SDCR1"])[-1][1], log.writes(R["H7_FMC_SDCR2"])[-1][1]
    assert field(sdcr1, "H7_FMC_SDCRx_SDCLK") == 2 and sdcr1 & R["H7_FMC_SDCRx_RBURST"]
    assert (field(sdcr2, "H7_FMC_SDCRx_NC"), field(sdcr2, "H7_FMC_SDCRx_NR"), field(sdcr2, "H7_FMC_SDCRx_MWID"),
            field(sdcr2, "H7_FMC_SDCRx_CAS")) == (1, 1, 2, 3) and sdcr2 & R["H7_FMC_SDCRx_NB"]
    t1, t2 = log.writes(R["H7_FMC_SDTR1"])[-1][1], log.writes(R["H7_FMC_SDTR2"])[-1][1]
    ns = 1e9 / sdclk

    def cyc(v, f):
        return field(v, f) + 1

    assert cyc(t1, "H7_FMC_SDTRx_TRC") * ns >= 60 and (cyc(t1, "H7_FMC_SDTRx_TRC") - 1) * ns < 60
    assert cyc(t1, "H7_FMC_SDTRx_TRP") * ns >= 18 and cyc(t2, "H7_FMC_SDTRx_TRCD") * ns >= 18
    assert cyc(t2, "H7_FMC_SDTRx_TRAS") * ns >= 42 and cyc(t2, "H7_FMC_SDTRx_TXSR") * ns >= 70
    assert cyc(t2, "H7_FMC_SDTRx_TWR") >= max(2, cyc(t2, "H7_FMC_SDTRx_TRAS") - cyc(t2, "H7_FMC_SDTRx_TRCD"),
                                             cyc(t1, "H7_FMC_SDTRx_TRC") - cyc(t2, "H7_FMC_SDTRx_TRCD") -
                                             cyc(t1, "H7_FMC_SDTRx_TRP"))
    assert cyc(t2, "H7_FMC_SDTRx_TMRD") == 2


def test_sdram_jedec_sequence_at_120mhz(sim, tmp_path):
    _, log, _ = run(sim, tmp_path, "init")
    _sdram_checks(log, 120e6)
    assert field(log.writes(R["H7_FMC_SDRTR"])[0][1], "H7_FMC_SDRTR_COUNT") == 1855


def test_sdram_timings_follow_the_clock(sim, tmp_path):
    res, log, _ = run(sim, tmp_path, "sdram", "200000000")  # 400 MHz parts: SDCLK 100 MHz
    assert res["sdram"] == "0"
    _sdram_checks(log, 100e6)
    assert run(sim, tmp_path, "sdram", "0")[0]["sdram"] == str(MA_ERR_ARGUMENT)


# ---------------------------------------------------------------- QUADSPI


def _ccr(log: Log, pred) -> list[tuple[int, int]]:
    return [(i, v) for i, v in log.writes(R["H7_QUADSPI_CCR"]) if pred(v)]


def test_qspi_quad_mode_before_memory_mapped_and_program_verify(sim, tmp_path):
    data = np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    (tmp_path / "img.bin").write_bytes(data)
    res, log, _ = run(sim, tmp_path, "qspi", str(tmp_path / "img.bin"))
    assert {k: res[k] for k in ("init", "erase", "program", "read", "read_equal", "mapped", "map_equal",
                                "read_after_map", "read_after_map_equal")} == {
        "init": "0", "erase": "0", "program": "0", "read": "0", "read_equal": "1", "mapped": "1", "map_equal": "1",
        "read_after_map": "0", "read_after_map_equal": "1"}
    assert res["odd_reads_equal"] == "1"  # odd offsets and lengths in dual-flash mode (bytes move in pairs)
    assert res["program_odd"] == "0"  # 33 bytes: padded to 34 with 0xFF, verified by reading back
    assert res["read_out_of_range"] == res["read_null"] == res["erase_unaligned"] == str(MA_ERR_ARGUMENT)
    cr = log.writes(R["H7_QUADSPI_CR"])
    enable = next(i for i, v in cr if v & R["H7_QUADSPI_CR_EN"])
    assert log.first_write(R["H7_RCC_AHB3ENR"], lambda v: v & R["H7_RCC_AHB3ENR_QSPIEN"]) < enable
    assert log.last_value(R["H7_QUADSPI_CR"], enable + 1) & R["H7_QUADSPI_CR_DFM"]
    assert field(log.last_value(R["H7_QUADSPI_DCR"], enable), "H7_QUADSPI_DCR_FSIZE") == 26  # 2^27 = 128 MB

    def instr(i):
        return lambda v: v & 0xFF == i

    quad_on = _ccr(log, lambda v: v & 0xFF == 0x35 and field(v, "H7_QUADSPI_CCR_IMODE") == 1)
    mapped = _ccr(log, lambda v: field(v, "H7_QUADSPI_CCR_FMODE") == 3)
    assert quad_on and mapped and quad_on[0][0] < mapped[0][0], "memory-mapped before the flash's quad mode"
    check = _ccr(log, instr(0x65))
    assert check and quad_on[0][0] < check[0][0] < mapped[0][0] and field(check[0][1], "H7_QUADSPI_CCR_IMODE") == 3
    vcr = _ccr(log, instr(0x81))
    wren = _ccr(log, instr(0x06))
    assert vcr and any(i < vcr[0][0] for i, _ in wren) and vcr[0][0] < mapped[0][0]
    m = mapped[0][1]
    assert m & 0xFF == 0xEC and field(m, "H7_QUADSPI_CCR_DCYC") == 10 and field(m, "H7_QUADSPI_CCR_ADSIZE") == 3
    assert all(field(m, f) == 3 for f in ("H7_QUADSPI_CCR_IMODE", "H7_QUADSPI_CCR_ADMODE", "H7_QUADSPI_CCR_DMODE"))
    # every program (0x12) and erase (0x21) follows a write enable, and is followed by a WIP poll
    for op in (0x12, 0x21):
        ops = _ccr(log, instr(op))
        assert ops
        for i, _ in ops:
            assert any(j < i for j, _ in wren)
            polls = _ccr(log, lambda v: field(v, "H7_QUADSPI_CCR_FMODE") == 2)
            assert any(j > i for j, _ in polls)
    # reading after the map leaves memory-mapped mode with ABORT first
    abort = next(i for i, v in cr if v & R["H7_QUADSPI_CR_ABORT"])
    assert abort > mapped[0][0]


def test_qspi_never_mapped_when_quad_mode_is_not_confirmed(sim, tmp_path):
    # the flash answers 0xFF to every register read (bit 7 of the enhanced volatile configuration = quad off)
    res, log, _ = run(sim, tmp_path, "init", MA_SIM_FORCE=f"{R['H7_QUADSPI_DR']:08x}:80808080")
    assert res["init"] == str(MA_ERR_IO)
    assert not _ccr(log, lambda v: field(v, "H7_QUADSPI_CCR_FMODE") == 3)


# ---------------------------------------------------------------- timeouts


@pytest.mark.parametrize("reg, bit", [
    ("H7_PWR_CSR1", "H7_PWR_CSR1_ACTVOSRDY"), ("H7_PWR_D3CR", "H7_PWR_D3CR_VOSRDY"),
    ("H7_RCC_CR", "H7_RCC_CR_HSERDY"), ("H7_RCC_CR", "H7_RCC_CR_PLL1RDY"), ("H7_RCC_CFGR", "H7_RCC_CFGR_SWS"),
    ("H7_USART1_ISR", "H7_USART_ISR_TEACK"), ("H7_QUADSPI_SR", "H7_QUADSPI_SR_TCF"),
    ("H7_QUADSPI_SR", "H7_QUADSPI_SR_SMF"),
])
def test_never_ready_gives_io_error_not_a_hang(sim, tmp_path, reg, bit):
    res, log, _ = run(sim, tmp_path, "init", MA_SIM_STUCK=f"{R[reg]:08x}:{R[bit]:08x}")
    assert res["init"] == str(MA_ERR_IO)
    timeouts = [e for e in log.e if e[0] in ("P", "PA") and e[4] == "timeout"]
    assert timeouts and timeouts[0][1] == R[reg] and timeouts[0][2] & R[bit]
    if bit == "H7_RCC_CR_PLL1RDY":
        assert not [v for _, v in log.writes(R["H7_RCC_CFGR"]) if field(v, "H7_RCC_CFGR_SW") == 3]


def test_qspi_busy_forever_gives_io_error(sim, tmp_path):
    res, _, _ = run(sim, tmp_path, "init", MA_SIM_FORCE=f"{R['H7_QUADSPI_SR']:08x}:{R['H7_QUADSPI_SR_BUSY']:08x}")
    assert res["init"] == str(MA_ERR_IO)


# ---------------------------------------------------------------- serial input


def _block(text: str, pcm: np.ndarray) -> bytes:
    from microalign.export.image import write_input_block

    blk = write_input_block(text, pcm)
    return blk + struct.pack("<I", zlib.crc32(blk))


def test_serial_input_block(sim, tmp_path):
    pcm = (np.sin(np.arange(16000 * 2) / 7.0) * 8000).astype(np.int16)
    text = "hello wörld"
    (tmp_path / "rx.bin").write_bytes(_block(text, pcm))
    res, _, tx = run(sim, tmp_path, "input", MA_SIM_RX=str(tmp_path / "rx.bin"))
    assert res["input_text"] == "0" and res["text"] == text
    assert int(res["audio_length"]) == int(res["audio_samples"]) == len(pcm)
    assert int(res["audio_crc"]) == zlib.crc32(pcm.astype("<i2").tobytes())
    assert res["ext_ram"] == f"1 {20 << 20}"  # 32 MB SDRAM minus the 12 MB input area
    # 12 MB less the 8 bytes that let the block's audio start on an 8-byte boundary
    assert tx.startswith(b"# ready: input block 12582904 bytes max\n") and b"# input: 32000 samples\n" in tx


@pytest.mark.parametrize("damage, reason", [
    (lambda b: b[:-1] + bytes([b[-1] ^ 1]), b"crc mismatch"),
    (lambda b: b[:-100], b"truncated"),
    (lambda b: b"XAINPUT" + b[7:], b"bad header"),
    (lambda b: b[:8] + struct.pack("<I", 8000) + b[12:], b"bad header"),
    (lambda b: b"", b"no header"),
])
def test_serial_input_errors(sim, tmp_path, damage, reason):
    pcm = np.arange(1000, dtype=np.int16)
    (tmp_path / "rx.bin").write_bytes(damage(_block("a b", pcm)))
    res, _, tx = run(sim, tmp_path, "input", MA_SIM_RX=str(tmp_path / "rx.bin"))
    assert res["input_text"] == str(MA_ERR_IO)
    assert b"# input error: " + reason in tx


# ---------------------------------------------------------------- MDMA


def test_mdma_one_copy_in_flight(sim, tmp_path):
    res, log, _ = run(sim, tmp_path, "dma")
    assert {k: int(v) for k, v in res.items() if k not in ("core_hz",)} == {
        "init": 0, "start": 0, "second_start": MA_ERR_ARGUMENT, "wait": 0, "wait_again": MA_ERR_ARGUMENT,
        "overlap": MA_ERR_ARGUMENT, "null": MA_ERR_ARGUMENT, "big_start": 0, "big_wait": 0,
        "bytes_start": 0, "bytes_wait": 0}
    blocks = [field(v, "H7_MDMA_CBNDTR_BNDT") or 65536 for _, v in log.writes(R["H7_MDMA_C0_CBNDTR"])]
    assert blocks == [100, 65536, 65536, 65536, 200000 - 3 * 65536, 7]
    ctcr = [v for _, v in log.writes(R["H7_MDMA_C0_CTCR"])]
    assert all(v & R["H7_MDMA_CTCR_SWRM"] and field(v, "H7_MDMA_CTCR_TRGM") == 1 for v in ctcr)
    assert field(ctcr[0], "H7_MDMA_CTCR_SSIZE") == 2 and field(ctcr[-1], "H7_MDMA_CTCR_SSIZE") == 0  # words, bytes
    for i, v in log.writes(R["H7_MDMA_C0_CCR"]):
        if v & R["H7_MDMA_CCR_SWRQ"]:
            assert log.last_value(R["H7_MDMA_C0_CCR"], i) & R["H7_MDMA_CCR_EN"]
            assert log.first_write(R["H7_MDMA_C0_CTCR"]) < i and log.first_write(R["H7_MDMA_C0_CIFCR"]) < i


def test_mdma_transfer_error_is_reported(sim, tmp_path):
    res, _, _ = run(sim, tmp_path, "dma", MA_SIM_FORCE=f"{R['H7_MDMA_C0_CISR']:08x}:{R['H7_MDMA_CISR_TEIF']:08x}")
    assert res["start"] == "0" and res["wait"] == str(MA_ERR_IO) and res["big_wait"] == str(MA_ERR_IO)
    assert res["second_start"] == str(MA_ERR_ARGUMENT)


# ---------------------------------------------------------------- the Cortex-M7 build


@pytest.mark.parametrize("variant", [[], ["-DMA_BOARD_NUCLEO_H743ZI"]], ids=["I-EVAL", "NUCLEO"])
def test_builds_warning_free_for_cortex_m7(tmp_path, variant):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    for src in SOURCES:
        r = subprocess.run(["arm-none-eabi-gcc", "-std=c99", "-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard",
                            "-mthumb", "-O2", "-Wall", "-Wextra", "-Wshadow", "-Werror", *variant,
                            *(f"-I{p}" for p in INCLUDES),
                            "-c", str(src), "-o", str(tmp_path / (src.stem + ".o"))], capture_output=True, text=True)
        assert r.returncode == 0, f"{src.name}: {r.stderr}"
    assert {p.name for p in SOURCES} >= {"board_stm32h743.c", "h743_clock.c", "h743_mpu_cache.c", "h743_qspi.c",
                                         "h743_sdram.c", "h743_usart.c", "h743_mdma.c", "h743_gpio.c"}


# ---------------------------------------------------------------- the Cortex-M7 build, executed

M7_FLAGS = ["-std=c99", "-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-mthumb", "-O2", "-Wall", "-Wextra",
            "-Wshadow", "-Werror", "-ffunction-sections"]
M7_LD = """MEMORY { FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 2048K
         DTCM (rw) : ORIGIN = 0x20000000, LENGTH = 128K }
SECTIONS { .text : { *(.text*) *(.rodata*) } > FLASH
           .ARM.exidx : { *(.ARM.exidx*) } > FLASH
           .data : { *(.data*) } > DTCM
           .bss (NOLOAD) : { *(.bss*) *(COMMON) } > DTCM }
"""


class Peripherals:
    """The status-bit rules of reg_sim.c for clock, power, USART and FMC, in Python, as unicorn MMIO."""

    def __init__(self, idcode: int = 0x20036450, stuck: tuple[int, int] | None = None):
        self.regs = {R["H7_DBGMCU_IDCODE"]: idcode, R["H7_SCB_CCSIDR"]: 0xF00FE019, R["H7_RCC_CR"]: 0x25}
        self.stuck = stuck
        self.writes: list[tuple[int, int]] = []
        self.cycles = 0

    def read(self, addr: int) -> int:
        if addr == R["H7_DWT_CYCCNT"]:
            self.cycles = (self.cycles + 100) & 0xFFFFFFFF  # time passes as the core polls
            return self.cycles
        v = self.regs.get(addr, 0)
        if addr == R["H7_USART1_ISR"]:
            cr1 = self.regs.get(R["H7_USART1_CR1"], 0)
            v = R["H7_USART_ISR_TXE_TXFNF"] | R["H7_USART_ISR_TC"]
            if cr1 & R["H7_USART_CR1_UE"] and cr1 & R["H7_USART_CR1_TE"]:
                v |= R["H7_USART_ISR_TEACK"]
            if cr1 & R["H7_USART_CR1_UE"] and cr1 & R["H7_USART_CR1_RE"]:
                v |= R["H7_USART_ISR_REACK"]
        if self.stuck and addr == self.stuck[0]:
            v &= ~self.stuck[1]
        return v

    def write(self, addr: int, v: int) -> None:
        self.writes.append((addr, v))
        if addr == R["H7_RCC_CR"]:
            v &= ~(R["H7_RCC_CR_HSERDY"] | R["H7_RCC_CR_PLL1RDY"])
            v |= R["H7_RCC_CR_HSERDY"] if v & R["H7_RCC_CR_HSEON"] else 0
            v |= R["H7_RCC_CR_PLL1RDY"] if v & R["H7_RCC_CR_PLL1ON"] else 0
        elif addr == R["H7_RCC_CFGR"]:
            v = (v & ~R["H7_RCC_CFGR_SWS"]) | (v & R["H7_RCC_CFGR_SW"]) << 3
        elif addr == R["H7_PWR_CR3"]:
            self.regs[R["H7_PWR_CSR1"]] = self.regs.get(R["H7_PWR_CSR1"], 0) | R["H7_PWR_CSR1_ACTVOSRDY"]
        elif addr == R["H7_PWR_D3CR"]:
            v |= R["H7_PWR_D3CR_VOSRDY"]
        self.regs[addr] = v


@pytest.fixture(scope="module")
def m7_program(tmp_path_factory):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    pytest.importorskip("unicorn")
    d = tmp_path_factory.mktemp("h743_m7")
    (d / "test.ld").write_text(M7_LD)
    elf = d / "core.elf"
    srcs = [BOARD / f for f in ("h743_clock.c", "h743_mpu_cache.c", "h743_usart.c", "h743_sdram.c", "h743_gpio.c")]
    srcs += [BOARD / "test" / "core_sequence.c", BOARD / "test" / "m7_main.c", REPO / "tflm_app" / "app" / "ma_hash.c"]
    r = subprocess.run(["arm-none-eabi-gcc", *M7_FLAGS, *(f"-I{p}" for p in INCLUDES), *map(str, srcs), "-T",
                        str(d / "test.ld"), "-nostartfiles", "--specs=nosys.specs", "-Wl,--gc-sections", "-e", "main",
                        "-o", str(elf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    syms = {}
    for line in subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    blobs = {}
    for sec in (".text", ".data"):
        out = d / (sec[1:] + ".bin")
        subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "-j", sec, str(elf), str(out)], check=True)
        blobs[sec] = out.read_bytes()
    return syms, blobs


def run_m7(m7_program, periph: Peripherals, max_insns: int = 20_000_000) -> list[int]:
    import unicorn
    from unicorn import arm_const as A

    syms, blobs = m7_program
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_M7)
    uc.mem_map(0x08000000, 2 << 20)
    uc.mem_map(0x20000000, 128 << 10)
    uc.mem_write(0x08000000, blobs[".text"])
    uc.mem_write(0x20000000, blobs[".data"])
    for base, size in ((0x40011000, 0x1000), (0x52000000, 0x6000), (0x58000000, 0x25000), (0x5C001000, 0x1000),
                       (0xE0000000, 0x100000)):
        uc.mmio_map(base, size, lambda _uc, off, _sz, b: periph.read(b + off), base,
                    lambda _uc, off, _sz, val, b: periph.write(b + off, val), base)
    uc.reg_write(A.UC_ARM_REG_SP, 0x20020000)
    uc.reg_write(A.UC_ARM_REG_LR, 0xFFFFFFFF)
    uc.emu_start(syms["main"] | 1, syms["ma_test_done"], count=max_insns)
    assert uc.reg_read(A.UC_ARM_REG_PC) == syms["ma_test_done"], "did not finish: a hang on the Cortex-M7 build"
    return [int.from_bytes(uc.mem_read(syms["ma_test_result"] + 4 * i, 4), "little", signed=True) for i in range(4)]


def test_m7_build_writes_the_same_registers_as_the_host_build(sim, tmp_path, m7_program):
    """The Cortex-M7 binary, executed (unicorn) against the same peripheral rules, writes exactly the
    registers and values, in the same order, that the host build's log shows: the tests above check
    the code that runs on the board, and its DWT-timed waits terminate."""
    res, log, _ = run(sim, tmp_path, "core")
    assert res["core"] == "0 0 0 0"
    host = [(e[1], e[2]) for e in log.e if e[0] == "W"]
    periph = Peripherals()
    assert run_m7(m7_program, periph) == [0, 0, 0, 0]
    assert periph.writes == host
    assert len(host) > 500  # clock tree, MPU, 512 D-cache set/way invalidations, USART, GPIO, FMC


@pytest.mark.parametrize("reg, bit", [("H7_RCC_CR", "H7_RCC_CR_PLL1RDY"), ("H7_USART1_ISR", "H7_USART_ISR_TEACK")])
def test_m7_build_times_out_on_a_peripheral_that_never_becomes_ready(m7_program, reg, bit):
    periph = Peripherals(stuck=(R[reg], R[bit]))
    st = run_m7(m7_program, periph)
    assert MA_ERR_IO in st and st[st.index(MA_ERR_IO) + 1:] == [1] * (3 - st.index(MA_ERR_IO))
    # the wait lasted its timeout (10 ms) in DWT cycles at the clock of the moment, not forever
    hz = 64e6 if reg == "H7_RCC_CR" else 480e6
    assert 10e-3 * hz <= periph.cycles <= 10e-3 * hz + 2e6


# ---------------------------------------------------------------- NUCLEO-H743ZI (-DMA_BOARD_NUCLEO_H743ZI)

NUCLEO_SRAM123 = 288 << 10  # SRAM1-3: the input block, then (from its audio on) the ext-RAM pool


def _touches(log: Log, lo: int, hi: int) -> list:
    return [e for e in log.e if e[0] in ("W", "R", "P", "PA") and lo <= e[1] < hi]


def test_nucleo_init_sequence(sim_nucleo, tmp_path):
    res, log, _ = run(sim_nucleo, tmp_path, "init")
    assert res["init"] == "0" and res["core_hz"] == "480000000"
    # no QUADSPI, no FMC register is touched, neither is clocked, and USART1 stays off
    assert _touches(log, R["H7_QSPI_R_BASE"], R["H7_QSPI_R_BASE"] + 0x1000) == []
    assert _touches(log, R["H7_FMC_R_BASE"], R["H7_FMC_R_BASE"] + 0x1000) == []
    assert _touches(log, R["H7_USART1_BASE"], R["H7_USART1_BASE"] + 0x400) == []
    assert not any(v & (R["H7_RCC_AHB3ENR_FMCEN"] | R["H7_RCC_AHB3ENR_QSPIEN"]) for _, v in log.writes(R["H7_RCC_AHB3ENR"]))
    # 8 MHz HSE from the ST-LINK's MCO: bypass before HSEON; PLL1 8 MHz / 1 (range 8-16 MHz) x 120 = 960 / 2 = 480
    byp = log.first_write(R["H7_RCC_CR"], lambda v: v & R["H7_RCC_CR_HSEBYP"])
    hse = log.first_write(R["H7_RCC_CR"], lambda v: v & R["H7_RCC_CR_HSEON"])
    assert byp <= hse and log.last_value(R["H7_RCC_CR"], hse + 1) & R["H7_RCC_CR_HSEBYP"]
    pllon = log.first_write(R["H7_RCC_CR"], lambda v: v & R["H7_RCC_CR_PLL1ON"])
    ck = log.last_value(R["H7_RCC_PLLCKSELR"], pllon)
    assert field(ck, "H7_RCC_PLLCKSELR_DIVM1") == 1 and field(ck, "H7_RCC_PLLCKSELR_PLLSRC") == 2
    div = log.last_value(R["H7_RCC_PLL1DIVR"], pllon)
    assert field(div, "H7_RCC_PLL1DIVR_N1") + 1 == 120 and field(div, "H7_RCC_PLL1DIVR_P1") + 1 == 2
    assert field(log.last_value(R["H7_RCC_PLLCFGR"], pllon), "H7_RCC_PLLCFGR_PLL1RGE") == 3
    # USART3 on PD8/PD9 AF7 from rcc_pclk1 = 120 MHz: clock and pins before the USART, BRR 130 while UE = 0
    clk = log.first_write(R["H7_RCC_APB1LENR"], lambda v: v & R["H7_RCC_APB1LENR_USART3EN"])
    afrh = log.writes(R["H7_GPIOD_BASE"] + R["H7_GPIO_AFRH"])
    assert afrh and (afrh[-1][1] & 0xFF) == 0x77  # pins 8 and 9: AF7
    assert log.first_write(R["H7_RCC_AHB4ENR"], lambda v: v & (1 << 3)) < afrh[0][0]  # GPIOD clocked first
    brr = log.first_write(R["H7_USART3_BRR"])
    assert clk < brr and log.writes(R["H7_USART3_BRR"])[0][1] == 130
    assert not log.last_value(R["H7_USART3_CR1"], brr) & R["H7_USART_CR1_UE"]
    ue = log.first_write(R["H7_USART3_CR1"], lambda v: v & R["H7_USART_CR1_UE"], after=brr)
    log.wait(R["H7_USART3_ISR"], R["H7_USART_ISR_TEACK"] | R["H7_USART_ISR_REACK"], after=ue)
    assert field(log.last_value(R["H7_RCC_D2CCIP2R"], len(log.e)), "H7_RCC_D2CCIP2R_USART28SEL") == 0
    # MPU: the QSPI window stays no-access, no flash or SDRAM region
    assert [v for _, v in log.writes(R["H7_MPU_RNR"])] == [0, 2]


def test_nucleo_has_no_qspi_flash(sim_nucleo, tmp_path):
    res, _, _ = run(sim_nucleo, tmp_path, "noflash")
    assert res["qspi_size"] == "0" and res["qspi_map_null"] == "1" and res["qspi_read"] == str(MA_ERR_ARGUMENT)


@pytest.mark.parametrize("text", ["hello wörld", "hello"])  # audio offsets 44 and 40: 4 and 0 modulo 8
def test_nucleo_serial_input_in_place(sim_nucleo, tmp_path, text):
    from microalign.export.image import write_input_block

    pcm = (np.sin(np.arange(16000 * 3) / 5.0) * 9000).astype(np.int16)
    audio_off = struct.unpack_from("<I", write_input_block(text, pcm), 24)[0]
    (tmp_path / "rx.bin").write_bytes(_block(text, pcm))
    res, _, tx = run(sim_nucleo, tmp_path, "inplace", MA_SIM_RX=str(tmp_path / "rx.bin"))
    assert tx.startswith(f"# ready: input block {NUCLEO_SRAM123 - 8} bytes max\n".encode())
    shift = (8 - audio_off % 8) % 8  # the block is placed so that its audio is 8-byte aligned
    assert res["ext_ram"] == f"1 {NUCLEO_SRAM123 - shift - audio_off}" and res["ext_aligned"] == "1"
    assert res["input_text"] == "0" and res["overlap"] == str(MA_ERR_ARGUMENT)
    assert res["audio_read"] == "0" and int(res["audio_samples"]) == len(pcm)
    assert int(res["audio_crc"]) == zlib.crc32(pcm.astype("<i2").tobytes())
    assert res["text"] == text


def test_nucleo_input_longer_than_sram_is_refused(sim_nucleo, tmp_path):
    pcm = np.ones(NUCLEO_SRAM123 // 2, dtype=np.int16)  # 9.4 s: more than SRAM1-3 holds
    (tmp_path / "rx.bin").write_bytes(_block("a", pcm))
    res, _, tx = run(sim_nucleo, tmp_path, "input", MA_SIM_RX=str(tmp_path / "rx.bin"))
    assert res["input_text"] == str(MA_ERR_IO) and b"# input error: bad header (" in tx

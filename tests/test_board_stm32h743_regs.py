"""Every address and bit field of tflm_app/board/stm32h743/stm32h743_regs.h against ST's CMSIS device header.

ST's ``cmsis_device_h7`` (github.com/STMicroelectronics/cmsis_device_h7) is never committed here. The test
uses ``$MA_CMSIS_DEVICE_H7`` (its ``Include/`` folder) or, on the developers' machines, a local mirror of
the repository; the CMSIS core headers (``core_cm7.h``) come from ``$MA_CMSIS_CORE`` or the TFLM tree in
../shared. It skips with a message when either is missing, or without arm-none-eabi-gcc.

For each ``H7_<NAME>``: ``_Static_assert(H7_<NAME> == <NAME>)`` when ST (or CMSIS core) defines
``<NAME>`` or ``<NAME>_Msk``; a register address ``H7_<PERIPH>_<REG>`` is checked as
``<PERIPH>_BASE + offsetof(<PERIPH>_TypeDef, <REG>)``; the few values ST does not name are listed in
``OWN`` with where they come from. Run as a script to print the number of checks.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BOARD = REPO / "tflm_app" / "board" / "stm32h743"
REGS = BOARD / "stm32h743_regs.h"
MIRROR = Path("/work/.mirror/STMicroelectronics+cmsis_device_h7/repo")
CORE_DEFAULT = REPO.parent / "shared" / "tflm" / "cortex-m7-cmsis-nn" / "third_party" / "cmsis" / "CMSIS" / "Core" / "Include"
GCC = "arm-none-eabi-gcc"

# register address prefixes: our H7_<prefix>_<REG> -> (ST base macro, ST type)
PERIPHS = {
    "RCC": ("RCC_BASE", "RCC_TypeDef"),
    "PWR": ("PWR_BASE", "PWR_TypeDef"),
    "SYSCFG": ("SYSCFG_BASE", "SYSCFG_TypeDef"),
    "FLASH": ("FLASH_R_BASE", "FLASH_TypeDef"),
    "DBGMCU": ("DBGMCU_BASE", "DBGMCU_TypeDef"),
    "QUADSPI": ("QSPI_R_BASE", "QUADSPI_TypeDef"),
    "USART1": ("USART1_BASE", "USART_TypeDef"),
    "USART3": ("USART3_BASE", "USART_TypeDef"),
    "MDMA_C0": ("MDMA_Channel0_BASE", "MDMA_Channel_TypeDef"),
    "SCB": ("SCB_BASE", "SCB_Type"),
    "MPU": ("MPU_BASE", "MPU_Type"),
    "DWT": ("DWT_BASE", "DWT_Type"),
    "DCB": ("DCB_BASE", "DCB_Type"),
}
# names whose ST spelling differs: our name -> ST expression
ALIASES = {
    "H7_FMC_BCR1": "(FMC_Bank1_R_BASE + offsetof(FMC_Bank1_TypeDef, BTCR[0]))",
    "H7_FMC_SDCR1": "(FMC_Bank5_6_R_BASE + offsetof(FMC_Bank5_6_TypeDef, SDCR[0]))",
    "H7_FMC_SDCR2": "(FMC_Bank5_6_R_BASE + offsetof(FMC_Bank5_6_TypeDef, SDCR[1]))",
    "H7_FMC_SDTR1": "(FMC_Bank5_6_R_BASE + offsetof(FMC_Bank5_6_TypeDef, SDTR[0]))",
    "H7_FMC_SDTR2": "(FMC_Bank5_6_R_BASE + offsetof(FMC_Bank5_6_TypeDef, SDTR[1]))",
    "H7_FMC_SDCMR": "(FMC_Bank5_6_R_BASE + offsetof(FMC_Bank5_6_TypeDef, SDCMR))",
    "H7_FMC_SDRTR": "(FMC_Bank5_6_R_BASE + offsetof(FMC_Bank5_6_TypeDef, SDRTR))",
    "H7_FMC_SDSR": "(FMC_Bank5_6_R_BASE + offsetof(FMC_Bank5_6_TypeDef, SDSR))",
    "H7_GPIO_MODER": "offsetof(GPIO_TypeDef, MODER)",
    "H7_GPIO_OTYPER": "offsetof(GPIO_TypeDef, OTYPER)",
    "H7_GPIO_OSPEEDR": "offsetof(GPIO_TypeDef, OSPEEDR)",
    "H7_GPIO_PUPDR": "offsetof(GPIO_TypeDef, PUPDR)",
    "H7_GPIO_AFRL": "offsetof(GPIO_TypeDef, AFR[0])",
    "H7_GPIO_AFRH": "offsetof(GPIO_TypeDef, AFR[1])",
    "H7_RCC_HPRE_DIV2": "(RCC_D1CFGR_HPRE_DIV2 >> RCC_D1CFGR_HPRE_Pos)",
    "H7_RCC_PPRE_DIV2": "(RCC_D1CFGR_D1PPRE_DIV2 >> RCC_D1CFGR_D1PPRE_Pos)",
    "H7_MDMA_CIFCR_ALL": "(MDMA_CIFCR_CTEIF | MDMA_CIFCR_CCTCIF | MDMA_CIFCR_CBRTIF | MDMA_CIFCR_CBTIF | MDMA_CIFCR_CLTCIF)",
    "H7_DCACHE_LINE": "__SCB_DCACHE_LINE_SIZE",
    "H7_GPIO_MODE_AF": "(GPIO_MODER_MODE0_1 >> GPIO_MODER_MODE0_Pos)",
    "H7_GPIO_SPEED_VERY_HIGH": "(GPIO_OSPEEDR_OSPEED0 >> GPIO_OSPEEDR_OSPEED0_Pos)",
    "H7_GPIO_PULL_UP": "(GPIO_PUPDR_PUPD0_0 >> GPIO_PUPDR_PUPD0_Pos)",
    "H7_RCC_PLLCKSELR_PLLSRC_HSE": "RCC_PLLCKSELR_PLLSRC_HSE",
}
# values ST's headers do not name, and their source
OWN = {
    "H7_FMC_SDRAM_BANK1_BASE": "RM0433 22.4 (SDRAM bank 1 at 0xC0000000, bank 2 at 0xD0000000 with BMAP = 00)",
    "H7_FMC_SDRAM_BANK2_BASE": "RM0433 22.4",
    "H7_DWT_LAR_KEY": "Cortex-M7 TRM / CoreSight: the lock access key 0xC5ACCE55",
}


def _include_dirs(tmp: Path) -> tuple[Path, Path]:
    dev = os.environ.get("MA_CMSIS_DEVICE_H7")
    if dev:
        device = Path(dev)
    elif MIRROR.exists():
        device = tmp / "cmsis_device_h7"
        device.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "--git-dir", str(MIRROR), "archive", "HEAD", "Include"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(device)], input=archive, check=True)
        device = device / "Include"
    else:
        pytest.skip("ST's cmsis_device_h7 not available: set MA_CMSIS_DEVICE_H7 to its Include/ folder "
                    "(git clone https://github.com/STMicroelectronics/cmsis_device_h7)")
    core = Path(os.environ.get("MA_CMSIS_CORE", CORE_DEFAULT))
    if not (device / "stm32h743xx.h").exists():
        pytest.skip(f"no stm32h743xx.h in {device}")
    if not (core / "core_cm7.h").exists():
        pytest.skip(f"no core_cm7.h in {core}: set MA_CMSIS_CORE to a CMSIS Core/Include folder")
    if shutil.which(GCC) is None:
        pytest.skip(f"{GCC} not installed")
    return device, core


def our_names() -> list[str]:
    return re.findall(r"^#define\s+(H7_\w+)\s", REGS.read_text(), flags=re.M)


def st_macros(device: Path, core: Path, tmp: Path) -> set[str]:
    src = tmp / "st_macros.c"
    src.write_text("#include <stddef.h>\n#include \"stm32h743xx.h\"\n")
    out = subprocess.run([GCC, "-mcpu=cortex-m7", "-mthumb", "-E", "-dM", f"-I{device}", f"-I{core}", str(src)],
                         check=True, capture_output=True, text=True).stdout
    return set(re.findall(r"^#define\s+(\w+)", out, flags=re.M))


def build_checks(names: list[str], st: set[str]) -> tuple[list[str], list[str]]:
    """(C _Static_assert lines, names left unchecked)."""
    checks, unchecked = [], []
    for name in names:
        n = name[3:]
        expr = None
        if name in OWN:
            pass
        elif name in ALIASES:
            expr = ALIASES[name]
        elif n in st:
            expr = n
        elif n + "_Msk" in st:
            expr = n + "_Msk"
        else:
            for prefix, (base, typ) in PERIPHS.items():
                if n.startswith(prefix + "_"):
                    reg = n[len(prefix) + 1:]
                    expr = f"({base} + offsetof({typ}, {reg}))"
                    break
        if expr is None:
            unchecked.append(name)
        else:
            checks.append(f'_Static_assert((uint32_t)({name}) == (uint32_t)({expr}), "{name} != {expr}");')
    return checks, unchecked


def run(tmp: Path) -> int:
    device, core = _include_dirs(tmp)
    names = our_names()
    checks, unchecked = build_checks(names, st_macros(device, core, tmp))
    assert set(unchecked) <= set(OWN), \
        f"name these against ST's header (or list them in OWN with their source): {sorted(set(unchecked) - set(OWN))}"
    src = tmp / "check_regs.c"
    src.write_text("#include <stddef.h>\n#include <stdint.h>\n#include \"stm32h743xx.h\"\n#include \"stm32h743_regs.h\"\n"
                   + "\n".join(checks) + "\n")
    r = subprocess.run([GCC, "-mcpu=cortex-m7", "-mthumb", "-std=c11", "-fsyntax-only", f"-I{device}", f"-I{core}",
                        f"-I{BOARD}", str(src)], capture_output=True, text=True)
    failed = re.findall(r'static assertion failed: "([^"]*)"', r.stderr)
    assert r.returncode == 0 and not failed, f"{len(failed)} differ from ST's header: {failed or r.stderr[-3000:]}"
    return len(checks)


def test_regs_match_st_cmsis_device_header(tmp_path):
    n = run(tmp_path)
    names = our_names()
    assert n >= 250 and n >= len(names) - len(OWN), (n, len(names))


def test_a_wrong_value_is_caught(tmp_path, monkeypatch):
    """The check can fail: a header with one bit moved is rejected."""
    bad = tmp_path / "bad"
    bad.mkdir()
    text = REGS.read_text().replace("#define H7_RCC_CR_PLL1RDY (1u << 25)", "#define H7_RCC_CR_PLL1RDY (1u << 24)")
    assert "(1u << 24)" in text
    (bad / "stm32h743_regs.h").write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "BOARD", bad)
    monkeypatch.setattr(sys.modules[__name__], "REGS", bad / "stm32h743_regs.h")
    with pytest.raises(AssertionError, match="H7_RCC_CR_PLL1RDY"):
        run(tmp_path)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        n = run(Path(d))
    print(f"{n} checks of {REGS.relative_to(REPO)} against ST's stm32h743xx.h / core_cm7.h: all equal")

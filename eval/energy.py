"""Energy per 10 s of audio on an STM32H743: executed instructions x cycles per instruction / clock -> t_run,
x run-mode supply current x VDD -> energy; then the run-then-sleep schedule (align, then Stop until the next
10 s of audio) and a check of the figures a widely shared write-up claims (400 MHz 96 mJ, 200 MHz 104 mJ,
100 MHz 112 mJ per 10 s).

    .venv/bin/python eval/energy.py                      # writes eval/results/energy.md and prints it
    .venv/bin/python eval/energy.py --insns-per-10s 571e6 --cpi 1.0 --current 480=140 --current 400=115

The instruction count is measured (QEMU, ../shared/tools/qemu-insn): by default the latest figure of
eval/results/device.md (eval/bench_firmware.py: "... instructions per audio second end to end"), else the
"per 10 s of audio" row of tflm_app/app/README.md; the report says which. The supply currents are the
datasheet's (DS12110), given below with their conditions; the run-mode and Stop tables could not be checked
against the datasheet (see DATASHEET_RUN_MA), so the report flags them and every one can be overridden. The one
DS12110 figure that was checked, the absolute maximum total supply current (Table 21), bounds every current.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEVICE_MD = REPO / "eval" / "results" / "device.md"
APP_README = REPO / "tflm_app" / "app" / "README.md"
OUT = REPO / "eval" / "results" / "energy.md"

AUDIO_S = 10.0
VDD = 3.3
# Typical VDD supply current in Run mode, code and data in ITCM/DTCM, LDO regulator on, all peripherals
# disabled, caches on, 25 C, VDD = 3.3 V: DS12110 (STM32H742xI/G STM32H743xI/G), section 7.3.6 "Supply current
# characteristics", table "Typical and maximum current consumption in Run mode, code with data processing
# running from ITCM, regulator ON". NOT VERIFIED: two sessions searched for these tables (queries "DS12110
# current consumption Run mode", "STM32H743 IDD Run mode 480 MHz", "...Stop mode SVOS5", in documentation pages,
# web pages and code); the only DS12110 text reachable was Rev 5 page 99 (Table 21, used below), not the
# supply-current tables of section 7.3.6. The values are estimates of the order of magnitude ST publishes
# (about 0.27-0.3 mA/MHz at the top voltage scales, less at VOS3) and must be checked against the datasheet
# revision at hand before being quoted. Voltage scale: the lowest that
# allows the clock (DS12110 "General operating conditions", revision V silicon: VOS0 <= 480 MHz, VOS1 <= 400,
# VOS2 <= 300, VOS3 <= 200).
DATASHEET_RUN_MA = {480: ("VOS0", 140.0), 400: ("VOS1", 112.0), 200: ("VOS3", 50.0), 100: ("VOS3", 27.0)}
# Stop mode (D1, D2, D3 in DStop, SVOS5, flash in low-power mode, SRAMs retained), typical at 25 C: of the order
# of 1 mA in DS12110's "Typical current consumption in System Stop mode" table (NOT VERIFIED, as above).
DATASHEET_STOP_MA = 1.0
WRITEUP_MJ = {400: 96.0, 200: 104.0, 100: 112.0}
# VERIFIED: DS12110 Rev 5, section 7.2 "Absolute maximum ratings", Table 21 "Current characteristics": total
# current into the sum of all VDD power lines (source), max 620 mA. No run or Stop current can exceed it; a
# --current above it is refused.
ABS_MAX_IVDD_MA = 620.0


class EnergyInputError(ValueError):
    """An argument or a source file that does not give a usable figure."""


@dataclass
class Point:
    mhz: int
    vos: str
    run_ma: float
    t_run: float        # s per 10 s of audio
    e_run_mj: float     # energy while aligning
    e_sleep_mj: float   # energy in Stop for the rest of the 10 s
    writeup_mj: float | None

    @property
    def e_total_mj(self) -> float:
        return self.e_run_mj + self.e_sleep_mj

    @property
    def realtime(self) -> bool:
        return self.t_run <= AUDIO_S


def instructions_per_10s(device_md: Path = DEVICE_MD, readme: Path = APP_README) -> tuple[float, str]:
    """The latest measured instructions per 10 s of audio and where it came from."""
    if device_md.exists():
        text = device_md.read_text(encoding="utf-8")
        m = re.search(r"\*\*([\d,.]+)\s*M instructions per audio second end to end", text)
        if m:
            per_s = float(m.group(1).replace(",", "")) * 1e6
            return per_s * AUDIO_S, f"{device_md.relative_to(REPO)} ({m.group(1)} M instructions per audio second x 10)"
    if readme.exists():
        for line in readme.read_text(encoding="utf-8").splitlines():
            if "per 10 s of audio" in line:
                m = re.search(r"([\d,.]+)\s*M instructions", line)
                if m:
                    return float(m.group(1).replace(",", "")) * 1e6, \
                        f"{readme.relative_to(REPO)} (row '→ per 10 s of audio': {m.group(1)} M instructions)"
    raise EnergyInputError(f"no instruction count in {device_md} or {readme}: pass --insns-per-10s")


def estimate(insns: float, cpi: float, run_ma: dict[int, tuple[str, float]], stop_ma: float, vdd: float) -> list[Point]:
    if insns <= 0 or cpi <= 0 or vdd <= 0 or not 0 <= stop_ma <= ABS_MAX_IVDD_MA:
        raise EnergyInputError(f"need positive instructions, CPI and VDD and a non-negative Stop current "
                               f"(got {insns}, {cpi}, {vdd}, {stop_ma}; at most {ABS_MAX_IVDD_MA:g} mA, DS12110 "
                               "Table 21)")
    out = []
    for mhz in sorted(run_ma, reverse=True):
        vos, ma = run_ma[mhz]
        t = insns * cpi / (mhz * 1e6)
        e_run = vdd * ma * t                       # V x mA x s = mJ
        e_sleep = vdd * stop_ma * max(0.0, AUDIO_S - t)
        out.append(Point(mhz, vos, ma, t, e_run, e_sleep, WRITEUP_MJ.get(mhz)))
    return out


def implied_cycles(mj: float, mhz: int, ma: float, vdd: float) -> float:
    """Cycles per 10 s of audio a claimed compute energy implies at the datasheet current."""
    return mj / (vdd * ma) * mhz * 1e6


def report(points: list[Point], insns: float, source: str, cpi: float, vdd: float, stop_ma: float,
           overridden: bool, command: str) -> str:
    L = ["# Energy per 10 s of audio on the STM32H743 (estimate)", "",
         f"Produced by `{command}` (eval/energy.py).", "",
         "## Inputs", "",
         f"- executed instructions per 10 s of audio: **{insns / 1e6:,.1f} M**, from {source}; measured under QEMU "
         "(mps2-an500 Cortex-M7, CMSIS-NN, FA_ATTENTION), which counts instructions, not cycles",
         f"- cycles per instruction: **{cpi:g}** (assumed; no cache misses, QSPI or SDRAM wait states; the "
         "Cortex-M7 is dual-issue, so real code runs at 0.6-1.5 cycles per instruction depending on memory stalls)",
         f"- VDD = {vdd:g} V; run-mode current per clock from DS12110 (table *Typical and maximum current consumption "
         "in Run mode, code with data processing running from ITCM, regulator ON*, typical, 25 °C, all peripherals "
         "disabled), each at the lowest voltage scale that allows the clock"
         + (" — **values given on the command line**" if overridden else
            " — **not verified against the datasheet in this session: check them before quoting**"),
         f"- Stop mode between runs: {stop_ma:g} mA (DS12110 System Stop, SVOS5, SRAM retained"
         + ("" if overridden else "; not verified") + ")",
         f"- verified bound: DS12110 Rev 5 Table 21 (absolute maximum ratings) allows at most {ABS_MAX_IVDD_MA:g} mA "
         "in total into VDD; every current here is below it (a larger `--current` is refused). The run-mode and "
         "Stop tables of DS12110 section 7.3.6 could not be reached by the search tools of the sessions that wrote "
         "this script; until someone checks them, the rows below are estimates",
         "- the peripherals the application uses (QUADSPI, FMC SDRAM, USART1 on the STM32H743I-EVAL; USART3 only on "
         "the NUCLEO-H743ZI) and the board (SDRAM, QSPI flash, "
         "regulators, ST-LINK) draw current of their own that is not included", "",
         "## Per 10 s of audio", "",
         "| clock | scale | run current | t_run | energy aligning | + Stop for the rest of 10 s | total per 10 s | "
         "average power | write-up |",
         "|---|---|---|---|---|---|---|---|---|"]
    for p in points:
        L.append(f"| {p.mhz} MHz | {p.vos} | {p.run_ma:g} mA | {p.t_run:.2f} s{'' if p.realtime else ' (slower than real time)'} "
                 f"| {p.e_run_mj:,.0f} mJ | {p.e_sleep_mj:,.1f} mJ | **{p.e_total_mj:,.0f} mJ** | "
                 f"{p.e_total_mj / AUDIO_S:,.1f} mW | {'' if p.writeup_mj is None else f'{p.writeup_mj:g} mJ'} |")
    L += ["", "Energy aligning = VDD x I_run x t_run, t_run = instructions x CPI / clock. With a run current nearly "
          "proportional to the clock, the energy per alignment hardly depends on the clock: a faster clock finishes "
          "sooner and sleeps longer. The static part of the run current (present at any clock) makes low clocks "
          "cost more; the lower voltage scale that low clocks allow makes them cost less.", "",
          "## The write-up's figures", ""]
    by = {p.mhz: p for p in points}
    rows = []
    for mhz, mj in sorted(WRITEUP_MJ.items(), reverse=True):
        if mhz not in by:
            continue
        p = by[mhz]
        cyc = implied_cycles(mj, mhz, p.run_ma, vdd)
        rows.append((mhz, mj, p, cyc))
    L += ["| clock | claimed | our estimate (aligning only) | cycles per 10 s the claim implies at this current | "
          "our cycles per 10 s |", "|---|---|---|---|---|"]
    for mhz, mj, p, cyc in rows:
        L.append(f"| {mhz} MHz | {mj:g} mJ | {p.e_run_mj:,.0f} mJ | {cyc / 1e6:,.0f} M | {insns * cpi / 1e6:,.0f} M |")
    if rows:
        cycs = [c for *_, c in rows]
        spread = max(cycs) / min(cycs)
        ratio = (insns * cpi) / (sum(cycs) / len(cycs))
        steps = [rows[i + 1][1] - rows[i][1] for i in range(len(rows) - 1)]
        L += ["", f"- **Magnitude**: the claims imply {min(cycs) / 1e6:,.0f}-{max(cycs) / 1e6:,.0f} M cycles per 10 s "
              f"at these currents; this aligner executes {insns * cpi / 1e6:,.0f} M (x{ratio:.1f}). "
              + ("The claims are plausible only for a model about that much cheaper, or for a compute-only figure "
                 "that leaves out part of the work; for this aligner they are too low."
                 if ratio > 1.5 else "That is the same order: the magnitude is plausible."),
              f"- **Shape**: for one workload the implied cycle counts should agree across clocks; they differ by "
              f"x{spread:.2f}. "
              + ("Within the uncertainty of the currents." if spread < 1.25 else "Inconsistent: the three figures "
                 "cannot all describe the same work at the datasheet's currents.")
              + f" The claimed steps are {', '.join(f'+{s:g} mJ' for s in steps)} per halving of the clock; a fixed "
              "static current would make each halving add twice the previous step (E = a + b / f), and the lower "
              "voltage scale available at 200 and 100 MHz lowers the energy per cycle instead.",
              "- **Whole 10 s**: if the figures were meant for the whole 10 s with the MCU running throughout, "
              f"they would be ≥ {min(vdd * p.run_ma * AUDIO_S for *_, p, _ in rows):,.0f} mJ (VDD x I_run x 10 s at "
              "the lowest of these clocks); they are far below that, so they can only be compute-only energies."]
    best = min(points, key=lambda p: p.e_total_mj)
    worst = max(points, key=lambda p: p.e_total_mj)
    worst_pct = 100.0 * (1 - best.e_total_mj / worst.e_total_mj)
    L += ["", "## Run-then-sleep schedule", "",
          "Receive 10 s of audio (USART1 / DMA into SDRAM while the core sleeps), align it at full clock, print the "
          "JSON lines, enter Stop until the next block: per 10 s the core runs t_run (table above) and stops for the "
          f"rest. At these currents the cheapest clock is **{best.mhz} MHz ({best.e_total_mj:,.0f} mJ per 10 s)**, "
          f"{worst_pct:.0f} % below the dearest ({worst.mhz} MHz): the clock matters less than the instruction count, "
          "which scales every row. Waking from Stop takes microseconds; the clock tree (PLL relock, ~100 µs) and the "
          "SDRAM self-refresh exit are negligible against t_run.", ""]
    return "\n".join(L)


def parse_current(values: list[str]) -> dict[int, tuple[str, float]]:
    out = {}
    for v in values:
        m = re.fullmatch(r"(\d+)=(\d+(?:\.\d+)?)(?::(\w+))?", v.strip())
        if m is None:
            raise EnergyInputError(f"--current {v!r}: expected MHZ=MA or MHZ=MA:VOS, e.g. 400=112:VOS1")
        mhz = int(m.group(1))
        if not 1 <= mhz <= 480:
            raise EnergyInputError(f"--current {v!r}: the STM32H743 runs at 1-480 MHz")
        if not 0 < float(m.group(2)) <= ABS_MAX_IVDD_MA:
            raise EnergyInputError(f"--current {v!r}: a supply current must be above 0 and at most "
                                   f"{ABS_MAX_IVDD_MA:g} mA (DS12110 Table 21, absolute maximum total into VDD)")
        out[mhz] = (m.group(3) or DATASHEET_RUN_MA.get(mhz, ("?",))[0], float(m.group(2)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--insns-per-10s", type=float, default=None,
                    help="executed instructions per 10 s of audio (default: eval/results/device.md, else "
                         "tflm_app/app/README.md)")
    ap.add_argument("--cpi", type=float, default=1.0, help="cycles per instruction (default %(default)s)")
    ap.add_argument("--vdd", type=float, default=VDD, help="supply voltage in V (default %(default)s)")
    ap.add_argument("--current", action="append", default=[], metavar="MHZ=MA[:VOS]",
                    help="run-mode current at a clock (repeatable; replaces the datasheet table)")
    ap.add_argument("--stop-ma", type=float, default=None, help=f"Stop-mode current (default {DATASHEET_STOP_MA} mA)")
    ap.add_argument("--out", type=Path, default=OUT, help="markdown report (default %(default)s)")
    a = ap.parse_args(argv)
    try:
        if a.insns_per_10s is None:
            insns, source = instructions_per_10s()
        else:
            insns, source = a.insns_per_10s, "--insns-per-10s"
        run_ma = parse_current(a.current) if a.current else dict(DATASHEET_RUN_MA)
        stop_ma = DATASHEET_STOP_MA if a.stop_ma is None else a.stop_ma
        points = estimate(insns, a.cpi, run_ma, stop_ma, a.vdd)
    except EnergyInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    command = "python eval/energy.py" + ("" if argv is None and len(sys.argv) == 1 else " " + " ".join(
        sys.argv[1:] if argv is None else argv))
    text = report(points, insns, source, a.cpi, a.vdd, stop_ma, bool(a.current) or a.stop_ma is not None, command)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"instructions per 10 s from: {source}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

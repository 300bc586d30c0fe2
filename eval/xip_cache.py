"""XIP's cost on the STM32H743, estimated from the firmware's memory-access trace: every data load the
firmware makes from the memory-mapped weight image (QEMU: PSRAM 0x60000000; H743: QUADSPI 0x90000000) goes
through a model of the Cortex-M7's L1 data cache as the STM32H743 has it, and each miss costs one 32-byte
line fill over QSPI; compared with the staged mode, which copies each operator's constants once per window.

    python eval/xip_cache.py            # profiles the CMSIS-NN firmware on 10 s of speech, prints the estimate

(eval/bench_firmware.py puts the same section into eval/results/device.md.)

The cache model (eval/qemu_plugins/insn_profile.c): 16 KB, 4-way set-associative, 32-byte lines, LRU,
read- and write-allocate, once with the image's loads alone and once shared with every cacheable data access
(all but DTCM and peripherals: the arena, stacks outside DTCM, staging buffers and external RAM compete
for the same 16 KB). Sources: the STM32H743 has 16 KB of I-cache and 16 KB of D-cache (ST DS12110, the
STM32H742/743/753 datasheet, "Arm Cortex-M7 core with ... L1 cache: 16 Kbytes of data cache"); the Cortex-M7's
D-cache is 4-way set-associative with 32-byte lines (Arm Cortex-M7 Processor Technical Reference Manual,
r1p2, "Level 1 caches"). The TRM does not document the replacement policy; LRU is the model's assumption.

The QSPI line-fill model (time for 32 bytes, the core stalled meanwhile; critical-word-first and any overlap
ignored, so per miss it is an upper bound): QUADSPI clock 120 MHz (its 240 MHz kernel clock, HCLK3 at a 480 MHz
core clock, divided by 2), within the 133 MHz STR maximum of Micron's MT25QL512 (the STM32H743I-EVAL's QSPI
NOR; its datasheet: "133 MHz (MAX) for all protocols in STR, 90 MHz (MAX) ... in DTR"); "Quad I/O Fast Read"
(0xEB): instruction 8 clocks on one line, 32-bit address 8 clocks on four lines, 10 dummy clocks (the part's
default), then data at 4 bits per clock per flash (one flash: 64 clocks per line; the EVAL board's
dual-flash mode: 32). DTR (≤ 90 MHz) would halve the data clocks. A miss on the line right after the previous
miss of the image is served by the QUADSPI's memory-mapped read-ahead without a new command (data clocks
only); the trace counts those separately ("next line"). The staged mode reads the same link in indirect mode
with MDMA at the full data rate.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CPU_HZ = 480e6
LINE = 32


@dataclass(frozen=True)
class QspiLink:
    name: str
    clock_hz: float
    bits_per_clock: int          # 4: one quad flash, 8: two in dual-flash mode
    command_clocks: int = 8 + 8 + 10   # instruction (1 line) + 32-bit address (4 lines) + dummy

    def data_clocks(self, nbytes: int = LINE) -> float:
        return nbytes * 8 / self.bits_per_clock

    def fill_cycles(self, sequential: bool = False) -> float:
        """CPU cycles (480 MHz) for one line fill."""
        clocks = self.data_clocks() + (0 if sequential else self.command_clocks)
        return clocks / self.clock_hz * CPU_HZ

    def stream_bytes_per_s(self) -> float:
        return self.clock_hz * self.bits_per_clock / 8


LINKS = (QspiLink("one quad-SPI NOR, STR, 120 MHz", 120e6, 4),
         QspiLink("two in dual-flash mode (STM32H743I-EVAL), STR, 120 MHz", 120e6, 8))


def xip_cost(misses: int, sequential: int, link: QspiLink) -> tuple[float, float]:
    """(upper, with read-ahead) CPU cycles the line fills cost: every miss a new command / sequential ones not."""
    upper = misses * link.fill_cycles()
    ahead = (misses - sequential) * link.fill_cycles() + sequential * link.fill_cycles(sequential=True)
    return upper, ahead


def xip_section(xip, staged, windows: int, staged_windows: int, model_labels, compute_per_window: float,
                staged_bytes: int | None = None) -> list[str]:
    """Markdown lines: per model window, the weight image's traffic in the XIP profile ``xip`` (align phase, model
    stages), its D-cache misses and their cost over QSPI, and the staged profile's copies (``*_windows``: windows
    each run computed; ``compute_per_window``: the window's instructions, for the share at 1 IPC)."""
    ph = "align"
    loads, nbytes, alone, shared, seq_alone, seq_shared = (xip.win(i, ph, model_labels) / windows for i in range(6))
    traced = staged.win(1, ph) / staged_windows if staged is not None else float("nan")
    st_bytes = staged_bytes if staged_bytes is not None else traced
    out = [
        "| per 4 s model window | value |", "|---|---|",
        f"| XIP: loads from the weight image | {loads:,.0f} ({nbytes:,.0f} B) |",
        f"| XIP: D-cache misses, the image alone in the 16 KB cache | {alone:,.0f} ({alone * LINE:,.0f} B filled; "
        f"{seq_alone:,.0f} on the next line) |",
        f"| XIP: D-cache misses, cache shared with all cacheable data | {shared:,.0f} ({shared * LINE:,.0f} B filled; "
        f"{seq_shared:,.0f} on the next line) |",
        f"| staged: bytes copied from the image per window (firmware's count) | {st_bytes:,.0f} |",
        f"| staged: bytes the CPU loaded from the image per window (trace: the copies + flatbuffer metadata) | "
        f"{traced:,.0f} |",
        "", "| QSPI link (assumption) | XIP extra per window, shared cache: every miss a new command | "
        "… with read-ahead on sequential misses | image alone in the cache, with read-ahead | "
        "staged: MDMA copy per window (overlaps compute) |", "|---|---|---|---|---|"]
    for link in LINKS:
        up, ahead = xip_cost(shared, seq_shared, link)
        _, best = xip_cost(alone, seq_alone, link)
        copy_s = st_bytes / link.stream_bytes_per_s()
        out.append(f"| {link.name} | {up / 1e6:.1f} M cycles = {up / CPU_HZ * 1e3:.0f} ms "
                   f"(+{100 * up / compute_per_window:.0f} % on the window's {compute_per_window / 1e6:.0f} M "
                   f"instructions at 1 IPC) | {ahead / 1e6:.1f} M = {ahead / CPU_HZ * 1e3:.0f} ms | "
                   f"{best / 1e6:.1f} M = {best / CPU_HZ * 1e3:.0f} ms | "
                   f"{copy_s * 1e3:.1f} ms ({st_bytes / 1e3:.0f} kB at {link.stream_bytes_per_s() / 1e6:.0f} MB/s) |")
    return out


def main(argv: list[str] | None = None) -> int:
    import bench_firmware as B

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin-header",
                    help="directory of QEMU's qemu-plugin.h (default $QEMU_PLUGIN_H, build/qemu-insn)")
    ap.add_argument("--seconds", type=float, default=10.0, help="speech length (the sample repeated; default 10)")
    a = ap.parse_args(argv)
    plugin = B.build_profile_plugin(B.plugin_header_dir(a.plugin_header))
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        image, inp, _ = B.write_case(d, B.MODELS["fused"], a.seconds)
        runs = {}
        for mode in ("xip", "staged"):
            elf = B.build_config(B.Config("cmsis-nn", "fused", mode))
            runs[mode] = B.profile_firmware(elf, image, inp, plugin, cache=B.BUILD / "runs")
    w = runs["xip"].marks["windows"]
    compute = sum(runs["xip"].insn(lb, "align") for lb in B.MODEL_LABELS) / w
    print("\n".join(xip_section(runs["xip"], runs["staged"], w, runs["staged"].marks["windows"], B.MODEL_LABELS,
                                compute, B.report_numbers(runs["staged"].stdout).get("staged_bytes"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

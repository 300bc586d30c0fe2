"""The application's peak SRAM (issue 11 item 4): at most 256 KB, the same at any recording length, in every
weight mode -- measured on QEMU's Cortex-M7 by the firmware's own report, with eval/memory_report.py's method
(its functions: build, run, region use from the link map, peak_sram). The sample repeated to 10 s and to
60 s must need exactly the same SRAM (only external RAM grows), and the staged build's staging buffer must be
two halves of the model's largest operator (sized from the model, not at build time)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conftest import qemu_harness

REPO = Path(__file__).resolve().parents[1]


def _memory_report():
    spec = importlib.util.spec_from_file_location("memory_report", REPO / "eval" / "memory_report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    fw = qemu_harness()   # skips without arm-none-eabi-gcc / qemu-system-arm
    root = fw.tflm_m7_root()
    if root is None:
        pytest.skip("no Cortex-M7 TFLM tree (TFLM_M7_ROOT, default ../shared/tflm/cortex-m7-cmsis-nn)")
    from microalign.export import image as I

    mr = _memory_report()
    work = REPO / "build" / "tests_memory"   # incremental firmware builds, like build/tests_m7
    work.mkdir(parents=True, exist_ok=True)
    image = tmp_path_factory.mktemp("memory") / "student_qspi.bin"
    image.write_bytes(I.write_image((mr.ASSETS / "student_device.tflite").read_bytes(), REPO / "tflm_app" / "generated"))
    return mr, root, work, image


@pytest.mark.parametrize("mode", ["xip", "staged", "flash"])
def test_peak_sram_bounded_and_constant(setup, mode):
    mr, root, work, image = setup
    fw = qemu_harness()
    with fw.file_lock(work / ".lock"):
        runs = [mr.measure(root, work, mode, s, image) for s in (10.0, 60.0)]
    elf = runs[0]["elf"]
    use = mr.region_use(elf)
    syms = mr.symbol_sizes(elf, ("arena", "aligner_sram"))
    peaks = [mr.peak_sram(use, syms, r)[0] for r in runs]
    # what the firmware reports is real: the words came out (measure checks one JSON line per word)
    assert runs[1]["words"] > 5 * runs[0]["words"] > 0
    assert runs[1]["aligner_ext"] > 5 * runs[0]["aligner_ext"]             # external RAM grows with the length
    assert runs[0]["aligner_sram"] == runs[1]["aligner_sram"]              # SRAM does not
    assert runs[0]["arena"] == runs[1]["arena"] and runs[0]["arena"] > 100_000
    assert peaks[0] == pytest.approx(peaks[1], abs=256)                    # the stack may differ by a few words
    assert max(peaks) <= mr.GOAL, (mode, peaks, mr.peak_sram(use, syms, runs[1])[1])
    if mode == "staged":
        r = runs[0]
        assert r["staging_buffer"] == 2 * ((r["largest_op"] + 31) // 32 * 32), r
        assert r["staging_buffer"] < r["staging_arena_tail"] < r["staging_buffer"] + 16 * 1024, r
        assert use.get("SRAM123", {}).get(".sram123_bss", 0) == 0      # nothing reserved for it at build time
    else:
        assert "staging_buffer" not in runs[0]

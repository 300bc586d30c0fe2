"""eval/energy.py: energy per 10 s of audio on the STM32H743 from instructions, CPI, clock and supply current."""
from __future__ import annotations

import importlib.util
import sys

import pytest

from conftest import REPO

spec = importlib.util.spec_from_file_location("ma_energy", REPO / "eval" / "energy.py")
energy = importlib.util.module_from_spec(spec)
sys.modules["ma_energy"] = energy
spec.loader.exec_module(energy)


def test_energy_is_volts_times_current_times_run_time():
    pts = energy.estimate(480e6, 1.0, {480: ("VOS0", 100.0), 240: ("VOS1", 60.0)}, stop_ma=2.0, vdd=3.0)
    p480, p240 = pts                                   # fastest clock first
    assert p480.mhz == 480 and p480.t_run == pytest.approx(1.0)
    assert p480.e_run_mj == pytest.approx(3.0 * 100.0 * 1.0)      # V x mA x s = mJ
    assert p480.e_sleep_mj == pytest.approx(3.0 * 2.0 * 9.0)      # Stop for the other 9 s
    assert p240.t_run == pytest.approx(2.0) and p240.e_run_mj == pytest.approx(3.0 * 60.0 * 2.0)
    assert p240.e_total_mj == pytest.approx(360.0 + 3.0 * 2.0 * 8.0)
    slow = energy.estimate(20e9, 1.0, {100: ("VOS3", 30.0)}, 1.0, 3.3)[0]
    assert not slow.realtime and slow.e_sleep_mj == 0.0            # 200 s of work: no sleep, flagged


def test_implied_cycles_inverts_the_energy():
    e = energy.estimate(300e6, 1.0, {400: ("VOS1", 110.0)}, 0.0, 3.3)[0].e_run_mj
    assert energy.implied_cycles(e, 400, 110.0, 3.3) == pytest.approx(300e6)


def test_instruction_count_comes_from_the_reports(tmp_path):
    dev = tmp_path / "device.md"
    readme = tmp_path / "README.md"
    readme.write_text("| → per 10 s of audio | ≈ 571 M instructions ≈ 1.19 s |\n")
    energy_repo = energy.REPO
    energy.REPO = tmp_path
    try:
        n, src = energy.instructions_per_10s(dev, readme)
        assert n == pytest.approx(571e6) and "README.md" in src
        dev.write_text("**38.2 M instructions per audio second end to end** (10 s, CMSIS-NN)\n")
        n, src = energy.instructions_per_10s(dev, readme)       # the device benchmark wins when present
        assert n == pytest.approx(382e6) and "device.md" in src
        dev.unlink()
        readme.write_text("nothing here\n")
        with pytest.raises(energy.EnergyInputError, match="--insns-per-10s"):
            energy.instructions_per_10s(dev, readme)
    finally:
        energy.REPO = energy_repo


def test_bad_arguments_are_errors(tmp_path, capsys):
    with pytest.raises(energy.EnergyInputError, match="MHZ=MA"):
        energy.parse_current(["400mhz=110"])
    with pytest.raises(energy.EnergyInputError, match="1-480 MHz"):
        energy.parse_current(["600=110"])
    with pytest.raises(energy.EnergyInputError, match="positive"):
        energy.estimate(0, 1.0, {400: ("VOS1", 1.0)}, 0.0, 3.3)
    with pytest.raises(energy.EnergyInputError, match="620 mA"):   # DS12110 Table 21: at most 620 mA into VDD
        energy.parse_current(["480=700"])
    with pytest.raises(energy.EnergyInputError, match="620 mA"):
        energy.parse_current(["480=0"])
    with pytest.raises(energy.EnergyInputError, match="positive"):
        energy.estimate(1e6, 1.0, {400: ("VOS1", 1.0)}, 650.0, 3.3)   # a Stop current above the maximum
    assert all(0 < ma <= energy.ABS_MAX_IVDD_MA for _, ma in energy.DATASHEET_RUN_MA.values())
    assert energy.main(["--current", "bad", "--out", str(tmp_path / "e.md")]) == 2
    assert "MHZ=MA" in capsys.readouterr().err


def test_report_checks_the_writeup(tmp_path):
    out = tmp_path / "energy.md"
    assert energy.main(["--insns-per-10s", "104e6", "--current", "400=112", "--current", "200=50",
                        "--current", "100=27", "--stop-ma", "1", "--out", str(out)]) == 0
    text = out.read_text()
    # 104 M cycles at 400 MHz and 112 mA: 3.3 V x 112 mA x 0.26 s = 96 mJ, the write-up's 400 MHz figure
    assert "| 400 MHz | 96 mJ | 96 mJ |" in text
    assert "values given on the command line" in text
    assert "The claims are plausible only" not in text                       # same magnitude as the claim
    out2 = tmp_path / "e2.md"
    assert energy.main(["--insns-per-10s", "571e6", "--out", str(out2)]) == 0
    assert "for this aligner they are too low" in out2.read_text()
    assert "not verified against the datasheet" in out2.read_text()

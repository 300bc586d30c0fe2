"""The C frontend (tflm_app/frontend) equals features.py byte for byte, for both definitions.

Host: ma_frontend.c built with gcc -O2 -fsanitize=address,undefined (every warning an error)
and driven by tflm_app/tests/frontend/fe_cli.c, on real speech (TIMIT dev sample, skipped
when ../shared is absent) and on generated signals. Cortex-M7: the same source cross-compiled
with arm-none-eabi-gcc, run in unicorn's Cortex-M7 model and under QEMU (mps2-an500), skipped
with a message when the toolchain or emulator is missing. Each build is made for the "fft"
and the "dft" definition (-DMA_FE_DEFINITION_FFT=1/0) and compared with
features_from_pcm(..., definition=...).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED, qemu_harness
from microalign.frontend import features as F

REPO = Path(__file__).resolve().parents[1]
FE_DIR = REPO / "tflm_app" / "frontend"
FE_TESTS = REPO / "tflm_app" / "tests" / "frontend"   # the frontend's C test programs
GEN_DIR = REPO / "tflm_app" / "generated"
SR = F.SAMPLE_RATE
HOST_CFLAGS = ["-std=c99", "-O2", "-g", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion",
               "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


DEFINITIONS = list(F.DEFINITIONS)


def definition_flag(definition: str) -> str:
    return f"-DMA_FE_DEFINITION_FFT={int(definition == 'fft')}"


def build_fe_cli(out_dir: Path, definition: str, extra: list[str] = ()) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("needs a host C compiler (gcc)")
    exe = out_dir / "fe_cli"
    subprocess.run([gcc, *HOST_CFLAGS, definition_flag(definition), *extra, f"-I{FE_DIR}", f"-I{GEN_DIR}",
                    str(FE_DIR / "ma_frontend.c"), str(FE_TESTS / "fe_reference.c"),
                    str(FE_TESTS / "fe_cli.c"), "-o", str(exe)], check=True)
    return exe


class Cli:
    def __init__(self, exe: Path, definition: str):
        self.exe, self.definition = exe, definition

    def __str__(self) -> str:
        return str(self.exe)


@pytest.fixture(scope="module", params=DEFINITIONS)
def fe_cli(request, tmp_path_factory) -> Cli:
    """fe_cli built for one definition (the test compares with features_from_pcm(..., definition))."""
    return Cli(build_fe_cli(tmp_path_factory.mktemp(f"fe_host_{request.param}"), request.param), request.param)


def c_features(exe, pcm: np.ndarray, tmp: Path, chunk: int = 0) -> np.ndarray:
    src, dst = tmp / "in.pcm", tmp / "out.bin"
    pcm.astype("<i2").tofile(src)
    args = [str(exe), "features", str(src), str(dst)] + ([str(chunk)] if chunk else [])
    subprocess.run(args, check=True)
    return np.fromfile(dst, np.int8).reshape(-1, F.N_MELS)


def generated_signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.arange(SR) / SR
    i = np.arange(SR)
    sig = {
        "silence": np.zeros(SR, np.int16),
        "white noise full scale": rng.integers(-32768, 32768, SR).astype(np.int16),
        "white noise quiet (+-1 LSB)": rng.integers(-1, 2, SR).astype(np.int16),
        "square 400 Hz full scale": np.where(i % 40 < 20, 32767, -32768).astype(np.int16),
        "Nyquist +-full scale": np.where(i % 2, 32767, -32768).astype(np.int16),
        "DC -32768": np.full(SR // 4, -32768, np.int16),
        "random +-full scale": np.where(rng.random(SR) < 0.5, 32767, -32768).astype(np.int16),
        "chirp 50-7950 Hz": F.float_to_pcm16(0.9 * np.sin(2 * np.pi * (50 * t + 3950 * t * t))),
        "noise bursts": (rng.normal(0, 4000, SR) * (i % 4000 < 1000)).clip(-32768, 32767).astype(np.int16),
    }
    for f in (100, 440, 1000, 3000, 7000, 7999):
        sig[f"sine {f} Hz"] = F.float_to_pcm16(0.999 * np.sin(2 * np.pi * f * t))
    for n in (1, 2, F.HOP - 1, F.HOP, F.HOP + 1, F.PAD_LEFT, F.WIN - 1, F.WIN + 1):
        sig[f"short ({n} samples)"] = rng.integers(-32768, 32768, n).astype(np.int16)
    return sig


SIGNALS = generated_signals()


# ---- host ----------------------------------------------------------------------------------

def test_api_argument_checks(fe_cli):
    r = subprocess.run([str(fe_cli), "args"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name", list(SIGNALS))
def test_generated_signal_bit_exact(fe_cli, tmp_path, name):
    x = SIGNALS[name]
    want = F.features_from_pcm(x, fe_cli.definition)
    got = c_features(fe_cli, x, tmp_path)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_chunked_frames_equal_whole_buffer(fe_cli, tmp_path):
    x = SIGNALS["chirp 50-7950 Hz"]
    np.testing.assert_array_equal(c_features(fe_cli, x, tmp_path, chunk=7), F.features_from_pcm(x, fe_cli.definition))


def c_power(exe, frames: np.ndarray, tmp: Path) -> np.ndarray:
    src, dst = tmp / "in.pcm", tmp / "out.bin"
    frames.astype("<i2").tofile(src)
    subprocess.run([str(exe), "power", str(src), str(dst)], check=True)
    return np.fromfile(dst, np.int64).reshape(-1, F.N_BINS)


def random_frames(n: int, seed: int) -> np.ndarray:
    """[n, WIN] int16 frames of the kinds fe_cli fuzz draws: uniform, +-full scale, scaled by 2^-s,
    sparse impulses, constants (incl. -32768), square waves of random period and phase."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, F.WIN), np.int16)
    i = np.arange(F.WIN)
    for f in range(n):
        kind = f % 6
        if kind == 0:
            x = rng.integers(-32768, 32768, F.WIN)
        elif kind == 1:
            x = np.where(rng.random(F.WIN) < 0.5, 32767, -32768)
        elif kind == 2:
            x = rng.integers(-32768, 32768, F.WIN) >> int(rng.integers(0, 16))
        elif kind == 3:
            x = np.where(rng.random(F.WIN) < 1 / 37, np.where(rng.random(F.WIN) < 0.5, 32767, -32768), 0)
        elif kind == 4:
            x = np.full(F.WIN, rng.choice([-32768, 32767, int(rng.integers(-32768, 32768))]))
        else:
            half = int(rng.integers(2, 66)) // 2 + 1
            x = np.where(((i + int(rng.integers(0, 1000))) // half) % 2, 32767, -32768)
        out[f] = x
    return out


def test_power_spectrum_bit_exact(fe_cli, tmp_path):
    """Steps 1-4 alone (int64 power per bin), on frames from every generated signal."""
    frames = np.concatenate([F.frame_signal(x)[:8] for x in SIGNALS.values()]).astype(np.int16)
    np.testing.assert_array_equal(c_power(fe_cli, frames, tmp_path), F.power_spectrum(frames, fe_cli.definition))


def test_power_spectrum_bit_exact_on_random_frames(fe_cli, tmp_path):
    """3000 random frames of six kinds, C against Python."""
    frames = random_frames(3000, 20261130)
    got = c_power(fe_cli, frames, tmp_path)
    want = F.power_spectrum(frames, fe_cli.definition)
    bad = np.argwhere(got != want)
    assert len(bad) == 0, f"{len(bad)} bins differ, first (frame, bin) {bad[0].tolist()}"


def test_folded_dft_equals_direct_dft_on_random_frames(fe_cli):
    """6000 random frames (uniform, +-full scale, scaled, impulses, constants, square waves):
    the folded "dft" definition against the direct DFT, both in C."""
    if fe_cli.definition != "dft":
        pytest.skip("fe_cli fuzz checks ma_frontend_power_frame_dft, the same code in every build: run once")
    r = subprocess.run([str(fe_cli), "fuzz", "6000", "20261122"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_portable_build(tmp_path, definition):
    """-DMA_FRONTEND_PORTABLE (no builtins, no asm) gives the same results."""
    exe = build_fe_cli(tmp_path, definition, ["-DMA_FRONTEND_PORTABLE"])
    for args in (["args"], ["fuzz", "1200", "99"]):
        r = subprocess.run([str(exe), *args], capture_output=True, text=True)
        assert r.returncode == 0, (args, r.stderr)
    for name in ("white noise full scale", "chirp 50-7950 Hz", "short (1 samples)"):
        np.testing.assert_array_equal(c_features(exe, SIGNALS[name], tmp_path),
                                      F.features_from_pcm(SIGNALS[name], definition))
    frames = random_frames(600, 5)
    np.testing.assert_array_equal(c_power(exe, frames, tmp_path), F.power_spectrum(frames, definition))


@pytest.mark.shared
def test_timit_dev_bit_exact(fe_cli, tmp_path, timit_dev):
    import soundfile as sf

    wavs = sorted(timit_dev.glob("*/*.wav"))
    assert len(wavs) >= 10
    frames = 0
    for wav in wavs:
        x, sr = sf.read(wav, dtype="int16")
        assert sr == SR and x.ndim == 1
        want = F.features_from_pcm(x, fe_cli.definition)
        got = c_features(fe_cli, x, tmp_path)
        assert got.shape == want.shape, wav.name
        assert np.array_equal(got, want), f"{wav}: {np.count_nonzero(got != want)} features differ"
        frames += len(want)
    assert frames > 10_000


# ---- Cortex-M7 -----------------------------------------------------------------------------

def _need_arm_gcc():
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("Cortex-M7 build needs arm-none-eabi-gcc (Debian: apt-get install gcc-arm-none-eabi "
                    "libnewlib-arm-none-eabi)")


def write_vectors(path: Path, cases: dict[str, np.ndarray], definition: str) -> None:
    """fe_vectors.h for tflm_app/tests/frontend/fe_qemu_main.c: each case's PCM and the features Python computes."""
    lines = [f"/* fe_vectors.h: written by tests/test_frontend_c.py from features_from_pcm(..., {definition!r}). */"]
    entries, max_frames = [], 1
    for i, (name, x) in enumerate(cases.items()):
        q = F.features_from_pcm(x, definition)
        max_frames = max(max_frames, len(q))
        lines.append(f"static const int16_t fe_pcm_{i}[{len(x)}] = {{{','.join(map(str, x.tolist()))}}};")
        lines.append(f"static const int8_t fe_want_{i}[{q.size}] = {{{','.join(map(str, q.ravel().tolist()))}}};")
        entries.append(f'    {{"{name}", fe_pcm_{i}, {len(x)}, {len(q)}, fe_want_{i}}},')
    lines += [f"#define FE_NUM_CASES {len(cases)}", f"#define FE_MAX_FRAMES {max_frames}",
              "static const fe_case_t fe_cases[FE_NUM_CASES] = {", *entries, "};"]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_cortex_m7_qemu_bit_exact(tmp_path, definition):
    """ma_frontend_compute (whole buffer and in chunks of 3 frames) on QEMU's Cortex-M7 board
    (mps2-an500), via tflm_app/app/firmware.py: speech when ../shared is present, and the
    generated signals."""
    harness = qemu_harness()
    cases = {}
    speech = sorted((SHARED / "data" / "timit-sample-dev").glob("*/*.wav"))
    if speech:
        import soundfile as sf

        for wav in speech[:2]:
            cases[f"TIMIT {wav.parent.name}/{wav.stem}"] = sf.read(wav, dtype="int16")[0]
    for name in ("silence", "white noise full scale", "square 400 Hz full scale", "Nyquist +-full scale",
                 "chirp 50-7950 Hz", "sine 1000 Hz", "short (1 samples)", "short (161 samples)",
                 "short (399 samples)"):
        cases[name] = SIGNALS[name][:SR // 2]
    write_vectors(tmp_path / "fe_vectors.h", cases, definition)
    fw = harness.Firmware(test=str(FE_TESTS / "fe_qemu_main.c"), srcs=[str(FE_DIR / "ma_frontend.c")],
                          includes=[str(tmp_path), str(FE_DIR), str(GEN_DIR)], build=tmp_path,
                          defines=[f"MA_FE_DEFINITION_FFT={int(definition == 'fft')}"])
    rc, out = fw.run_qemu(timeout=300)
    assert rc == 0, out
    assert f"fe_qemu: 0 of {len(cases)} cases differ" in out, out


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_cortex_m7_unicorn_bit_exact(definition):
    """Frames of silence, full-scale noise, extreme and random frames through the M7 build in unicorn
    (eval/bench_frontend.py raises on any difference from features.py); the FFT within budget."""
    _need_arm_gcc()
    pytest.importorskip("unicorn", reason="needs the PyPI package unicorn (pip install unicorn)")
    sys.path.insert(0, str(REPO / "eval"))
    try:
        import bench_frontend
    finally:
        sys.path.pop(0)
    n = 60 if definition == "fft" else 12           # the DFT takes 6x longer to emulate
    res = bench_frontend.run("-O2", None, definition, extra_frames=dict(enumerate(random_frames(n, 3))))
    assert set(res) >= {"silence", "noise (full scale)", 0, n - 1}
    limit = 25_000 if definition == "fft" else 400_000     # issue 11: <= 25 k instructions per frame
    assert all(0 < r["frame"] <= limit for r in res.values()), {k: r["frame"] for k, r in res.items()}

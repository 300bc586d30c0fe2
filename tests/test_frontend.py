"""The fixed-point frontend (features.py) and its generated C header.

The C implementation is compared byte for byte in test_frontend_c.py; here: the Python
definition's own properties, its integer ranges (analytically and with extreme inputs,
against exact Python-int arithmetic), and that the committed header is what the
generator writes today.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from microalign.frontend import features as F
from microalign.frontend import header as H

SR = F.SAMPLE_RATE
rng = np.random.default_rng(1234)


def sine(freq: float, seconds: float = 1.0, amp: float = 0.999) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return F.float_to_pcm16(amp * np.sin(2 * np.pi * freq * t))


def extreme_signals(n: int = 8000) -> dict[str, np.ndarray]:
    i = np.arange(n)
    return {
        "square 400 Hz full scale": np.where(i % 40 < 20, 32767, -32768).astype(np.int16),
        "Nyquist +-full scale": np.where(i % 2, 32767, -32768).astype(np.int16),
        "DC -32768": np.full(n, -32768, np.int16),
        "DC +32767": np.full(n, 32767, np.int16),
        "white noise full scale": rng.integers(-32768, 32768, n).astype(np.int16),
        "random +-full scale": np.where(rng.random(n) < 0.5, 32767, -32768).astype(np.int16),
        "impulse train": np.where(i % 97 == 0, -32768, 0).astype(np.int16),
    }


# ---- shapes, errors, determinism ---------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, F.HOP - 1, F.HOP, F.HOP + 1, F.WIN, 3 * F.HOP + 7, SR])
def test_shapes(n):
    q = F.features_from_pcm(rng.integers(-3000, 3000, n).astype(np.int16))
    assert q.dtype == np.int8
    assert q.shape == (F.num_frames(n), F.N_MELS) == (-(-n // F.HOP), F.N_MELS)


def test_bad_input():
    with pytest.raises(ValueError, match="empty"):
        F.features_from_pcm(np.zeros(0, np.int16))
    with pytest.raises(ValueError, match="mono"):
        F.features_from_pcm(np.zeros((2, 100), np.int16))
    with pytest.raises(TypeError, match="int16"):
        F.features_from_pcm(np.zeros(100, np.float32))


def test_deterministic():
    x = rng.integers(-32768, 32768, 2 * SR).astype(np.int16)
    a = F.features_from_pcm(x)
    b = F.features_from_pcm(x.copy())
    assert a.tobytes() == b.tobytes()


def test_frames_are_local():
    """Frame t depends only on samples [t*HOP - PAD_LEFT, t*HOP - PAD_LEFT + WIN): the C code may
    compute any range of frames on its own."""
    x = rng.integers(-20000, 20000, SR).astype(np.int16)
    full = F.features_from_pcm(x)
    t = 40
    start = t * F.HOP - F.PAD_LEFT
    y = x.copy()
    y[:start] = 0
    y[start + F.WIN:] = 0
    np.testing.assert_array_equal(F.features_from_pcm(y)[t], full[t])


def test_silence_is_minus_128():
    q = F.features_from_pcm(np.zeros(SR, np.int16))
    assert (q == -128).all()


# ---- what the features mean ----------------------------------------------------------------

@pytest.mark.parametrize("freq", [100.0, 250.0, 1000.0, 3000.0, 6000.0, 7500.0])
def test_sine_lands_in_its_mel_band(freq):
    q = F.features_from_pcm(sine(freq))
    mid = q[len(q) // 2].astype(int)
    expected = int(np.argmax(F.MEL_Q12[:, int(round(freq * F.N_FFT / SR))]))  # filter weighing the bin most
    assert int(np.argmax(mid)) == expected
    assert mid.max() > 60                              # full scale sits near the top of the range ...
    assert mid.max() < 127                             # ... without saturating
    assert np.median(mid) < mid.max() - 40             # and stands far above most bands


def test_louder_is_higher_by_6db_steps():
    """Amplitude x2 = power x4 = +2 in log2 = 512 in Q8 = 512*341/2^14 ~ 10.7 int8 steps."""
    a = F.features_from_pcm(sine(1000.0, amp=0.25))[50].astype(int)
    b = F.features_from_pcm(sine(1000.0, amp=0.5))[50].astype(int)
    band = int(np.argmax(b))
    assert 10 <= b[band] - a[band] <= 12


# ---- integer ranges ----------------------------------------------------------------------

def _bounds() -> dict[str, int]:
    """Worst-case magnitudes over every int16 input, from the tables."""
    w = F.WINDOW_Q15.astype(object)
    max_xw = [max(abs((-32768 * int(v) + (1 << 14)) >> 15), abs((32767 * int(v) + (1 << 14)) >> 15)) for v in w]
    trig = int(max(np.abs(F.COS_Q15).max(), np.abs(F.SIN_Q15).max()))
    re = sum(max_xw) * trig                                   # |re|, |im| (step 3)
    re1 = (re + (1 << (F.DFT_SHIFT - 1))) >> F.DFT_SHIFT      # |re'| (step 4)
    p = (2 * re1 * re1) >> F.POWER_SHIFT
    m = p * int(F.MEL_Q12.astype(np.int64).sum(axis=1).max())  # step 5
    return {"xw": max(max_xw), "re": re, "re1": re1, "p": p, "m": m}


def test_intermediate_bounds_analytic():
    b = _bounds()
    assert b["xw"] <= 32768                  # windowed samples fit int16 (+1): int32 in C
    assert b["re"] < 2**53                   # the float64 BLAS DFT in power_spectrum is exact
    assert b["re"] < 2**38                   # as documented in ma_frontend.c
    assert b["re1"] < 2**24                  # re'^2 + im'^2 < 2^49: int64 with room
    assert b["p"] < 2**44                    # ma_frontend.h: power in [0, 2^44)
    assert b["m"] < 2**60                    # mel sums fit int64 (C comment: < 2^60)
    top = int(F.log2_q8(np.array([b["m"] + 1]))[0])
    q_top = ((top - F.LOG_OFFSET) * F.FEAT_MUL + (1 << (F.FEAT_SHIFT - 1))) >> F.FEAT_SHIFT
    assert q_top - 128 < 127                 # even the bound does not saturate the int8 range


def _exact_features(pcm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """features_from_pcm in Python ints (no overflow possible): (power, int8 features)."""
    frames = F.frame_signal(pcm).astype(object)
    xw = (frames * F.WINDOW_Q15.astype(object) + (1 << 14)) >> 15
    kn = (np.arange(F.N_BINS)[:, None] * np.arange(F.WIN)[None, :]) % F.N_FFT
    re = xw @ F.COS_Q15.astype(object)[kn].T
    im = xw @ F.SIN_Q15.astype(object)[kn].T
    half = 1 << (F.DFT_SHIFT - 1)
    re, im = (re + half) >> F.DFT_SHIFT, (im + half) >> F.DFT_SHIFT
    p = (re * re + im * im) >> F.POWER_SHIFT
    m = p @ F.MEL_Q12.T.astype(object)
    L = np.vectorize(_log2_q8_exact, otypes=[object])(m + 1)
    q = ((L - F.LOG_OFFSET) * F.FEAT_MUL + (1 << (F.FEAT_SHIFT - 1))) >> F.FEAT_SHIFT
    return p, (np.clip(q.astype(np.int64), 0, 255) - 128).astype(np.int8)


def _log2_q8_exact(v: int) -> int:
    e = int(v).bit_length() - 1
    f = (v >> (e - 8)) if e >= 8 else (v << (8 - e))
    return 256 * e + int(F.LOG2_LUT[f & 0xFF])


@pytest.mark.parametrize("name", list(extreme_signals()))
def test_extreme_inputs_match_exact_arithmetic(name):
    x = extreme_signals(1600)[name]
    p_exact, q_exact = _exact_features(x)
    p = F.power_spectrum(F.frame_signal(x))
    assert (p == p_exact.astype(np.int64)).all() and p.max() < _bounds()["p"]
    np.testing.assert_array_equal(F.features_from_pcm(x), q_exact)
    assert F.features_from_pcm(x).max() < 127


@pytest.mark.parametrize("src_rate", [8000, 22050, 44100])
def test_resampled_overshoot_is_clipped_not_wrapped(src_rate):
    """A full-scale square wave resampled to 16 kHz overshoots |1| (Gibbs): float_to_pcm16 must
    clip it, and the features must equal exact arithmetic."""
    n = src_rate // 4
    sq = np.where((np.arange(n) // (src_rate // 500)) % 2, 1.0, -1.0)
    g = np.gcd(SR, src_rate)
    y = resample_poly(sq, SR // g, src_rate // g)
    assert np.abs(y).max() > 1.0
    pcm = F.float_to_pcm16(y)
    assert pcm.min() == -32768 and pcm.max() == 32767
    np.testing.assert_array_equal(F.features_from_pcm(pcm[:1600]), _exact_features(pcm[:1600])[1])


def test_quiet_input_is_not_floored():
    """One-LSB noise (about -96 dBFS) sits just above the -128 floor (about -100 dBFS):
    the quietest recordings stay visible rather than collapsing to the floor."""
    q = F.features_from_pcm(rng.integers(-1, 2, SR).astype(np.int16))
    assert (q > -128).mean() > 0.95
    assert -110 < np.median(q) < -90


def test_log2_q8_exact_near_powers_of_two():
    v = sorted({max(1, (1 << e) + d) for e in range(0, 62) for d in (-1, 0, 1)})
    got = F.log2_q8(np.array(v, dtype=np.int64))
    assert [int(g) for g in got] == [_log2_q8_exact(x) for x in v]


# ---- the generated header ----------------------------------------------------------------

def test_trig_tables_have_the_symmetries_the_c_dft_uses():
    H.check_trig_symmetry()
    bad = F.COS_Q15.copy()
    bad[3] += 1
    with pytest.raises(ValueError, match="symmetries"):
        H.check_trig_symmetry(bad, F.SIN_Q15)


def test_sparse_mel_is_the_dense_matrix():
    first, count, offset, weights = H.sparse_mel()
    dense = np.zeros_like(F.MEL_Q12)
    for j in range(F.N_MELS):
        dense[j, first[j]:first[j] + count[j]] = weights[offset[j]:offset[j] + count[j]]
    np.testing.assert_array_equal(dense, F.MEL_Q12)


def test_header_has_every_constant():
    text = H.render()
    for name in ("SAMPLE_RATE", "HOP", "WIN", "PAD_LEFT", "N_FFT", "N_BINS", "N_MELS", "DFT_SHIFT",
                 "POWER_SHIFT", "LOG_OFFSET", "FEAT_MUL", "FEAT_SHIFT"):
        assert any(line.split()[:3] == ["#define", f"MA_FE_{name}", str(getattr(F, name))]
                   for line in text.splitlines()), name
    assert "generated by microalign.frontend.header" in text and "do not edit" in text
    assert text.isascii()


def test_committed_header_is_current(repo, tmp_path):
    committed = repo / "tflm_app" / "generated" / H.FILENAME
    assert committed.is_file(), f"{committed} missing: run python -m microalign.frontend.header --out tflm_app/generated"
    fresh = H.write_header(tmp_path)
    assert fresh.read_bytes() == committed.read_bytes(), (
        "tflm_app/generated/microalign_frontend_config.h is stale: "
        "python -m microalign.frontend.header --out tflm_app/generated")


def test_header_cli(tmp_path):
    assert H.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / H.FILENAME).read_text() == H.render()

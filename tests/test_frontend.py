"""The fixed-point frontend (features.py) and its generated C header.

The C implementation is compared byte for byte in test_frontend_c.py; here: the Python
definition's own properties, its integer ranges (analytically and with extreme inputs,
against exact Python-int arithmetic), and that the committed header is what the
generator writes today.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from microalign.frontend import features as F
from microalign.frontend import fft as FFT
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


def random_frames(n: int, seed: int) -> np.ndarray:
    """[n, WIN] int16: uniform full scale, +-full scale, scaled down by 2^s, sparse impulses."""
    r = np.random.default_rng(seed)
    kinds = [lambda: r.integers(-32768, 32768, F.WIN),
             lambda: np.where(r.random(F.WIN) < 0.5, 32767, -32768),
             lambda: r.integers(-32768, 32768, F.WIN) >> int(r.integers(0, 16)),
             lambda: np.where(r.random(F.WIN) < 0.03, -32768, 0)]
    return np.stack([kinds[i % 4]() for i in range(n)]).astype(np.int16)


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


def test_speech_matches_the_definition():
    """Real speech at an ordinary level (0.3 s of the bundled sample; the extreme-signal tests cover full
    scale): framing as the module doc states it (zero outside the signal) and every int8 feature equal to
    the definition computed in Python ints."""
    import soundfile as sf

    pcm, _ = sf.read(str(Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets" / "sample.wav"),
                     dtype="int16")
    x = pcm[SR:SR + 3 * SR // 10]
    frames = F.frame_signal(x)
    for t in (0, 1, 13, len(frames) - 1):
        lo = t * F.HOP - F.PAD_LEFT
        assert frames[t].tolist() == [int(x[n]) if 0 <= n < len(x) else 0 for n in range(lo, lo + F.WIN)], t
    q = F.features_from_pcm(x, "dft")                     # _exact_features is the "dft" definition
    np.testing.assert_array_equal(q, _exact_features(x)[1])
    assert len(np.unique(q)) > 50 and q.min() > -128        # speech: a spread of values, none at the floor


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


@pytest.mark.parametrize("definition", F.DEFINITIONS)
def test_silence_is_minus_128(definition):
    q = F.features_from_pcm(np.zeros(SR, np.int16), definition)
    assert (q == -128).all()


def test_unknown_definition():
    with pytest.raises(ValueError, match="'fast'"):
        F.features_from_pcm(np.zeros(100, np.int16), "fast")
    with pytest.raises(ValueError, match=r"\[T, 400\]"):
        F.power_spectrum(np.zeros((3, 399), np.int16))


# ---- what the features mean ----------------------------------------------------------------

@pytest.mark.parametrize("definition", F.DEFINITIONS)
@pytest.mark.parametrize("freq", [100.0, 250.0, 1000.0, 3000.0, 6000.0, 7500.0])
def test_sine_lands_in_its_mel_band(freq, definition):
    q = F.features_from_pcm(sine(freq), definition)
    mid = q[len(q) // 2].astype(int)
    expected = int(np.argmax(F.MEL_Q12[:, int(round(freq * F.N_FFT / SR))]))  # filter weighing the bin most
    assert int(np.argmax(mid)) == expected
    assert mid.max() > 60                              # full scale sits near the top of the range ...
    assert mid.max() < 127                             # ... without saturating
    assert np.median(mid) < mid.max() - 40             # and stands far above most bands


@pytest.mark.parametrize("definition", F.DEFINITIONS)
def test_louder_is_higher_by_6db_steps(definition):
    """Amplitude x2 = power x4 = +2 in log2 = 512 in Q8 = 512*341/2^14 ~ 10.7 int8 steps."""
    a = F.features_from_pcm(sine(1000.0, amp=0.25), definition)[50].astype(int)
    b = F.features_from_pcm(sine(1000.0, amp=0.5), definition)[50].astype(int)
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
    p = F.power_spectrum(F.frame_signal(x), "dft")
    assert (p == p_exact.astype(np.int64)).all() and p.max() < _bounds()["p"]
    np.testing.assert_array_equal(F.features_from_pcm(x, "dft"), q_exact)
    assert F.features_from_pcm(x, "dft").max() < 127


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
    np.testing.assert_array_equal(F.features_from_pcm(pcm[:1600], "dft"), _exact_features(pcm[:1600])[1])
    assert F.features_from_pcm(pcm[:1600], "fft").max() < 127


@pytest.mark.parametrize("definition", F.DEFINITIONS)
def test_quiet_input_is_not_floored(definition):
    """One-LSB noise (about -96 dBFS) sits just above the -128 floor (about -100 dBFS):
    the quietest recordings stay visible rather than collapsing to the floor."""
    q = F.features_from_pcm(np.random.default_rng(99).integers(-1, 2, SR).astype(np.int16), definition)
    assert (q > -128).mean() > 0.95
    assert -110 < np.median(q) < -90


# ---- the "fft" definition ---------------------------------------------------------------

def test_fft_power_is_the_float_power_spectrum():
    """The fixed-point FFT's power p is |rfft(xw)|^2 / 16 (xw the Q15-windowed samples, float64):
    in amplitude |X| = sqrt(16 p), within 0.75 DFT units plus 1e-6 of the frame's peak wherever
    |X| >= 16 (below, the final floor of p dominates); the Q15-table DFT misses that 30-fold."""
    frames = np.concatenate([random_frames(300, 11), F.frame_signal(sine(1234.5))[:20]])
    xw = frames.astype(np.float64) * F.WINDOW_Q15 / 32768.0
    exact = np.abs(np.fft.rfft(xw, F.N_FFT, axis=1)) ** 2 / 16.0
    tol = 0.75 + 1e-6 * np.sqrt(16.0 * exact.max(axis=1, keepdims=True))
    big = exact >= 16.0
    err = {d: (np.abs(np.sqrt(16.0 * F.power_spectrum(frames, d)) - np.sqrt(16.0 * exact)) / tol)[big]
           for d in F.DEFINITIONS}
    assert err["fft"].max() < 1.0, err["fft"].max()
    assert err["dft"].max() > 30 * err["fft"].max(), (err["fft"].max(), err["dft"].max())


def _q31(v: float) -> int:
    return max(-2**31, min(2**31 - 1, round(v * 2**31)))


def _fft_spec_power(x) -> list[int]:
    """The "fft" definition as fft.py's docstring states it, one frame, Python ints, written
    independently of fft.py (scalar loops, twiddles from math.cos / math.sin)."""
    import math

    w = [int(v) for v in F.WINDOW_Q15]
    n = len(x)
    q9 = [(int(x[i]) * w[i] + 32) >> 6 for i in range(n)]
    z = [(q9[2 * m], q9[2 * m + 1]) if 2 * m < n else (0, 0) for m in range(256)]

    def rev4(i):
        return int(np.base_repr(i, 4).zfill(4)[::-1], 4)

    def hr(p):
        return (p + 2**31) >> 32

    def cmul(b, wr, wi):
        return hr(b[0] * wr) + ((2**31 - b[1] * wi) >> 32), hr(b[0] * wi) + hr(b[1] * wr)

    def dft4(a, b, c, d):
        return [(a[0] + b[0] + c[0] + d[0], a[1] + b[1] + c[1] + d[1]),
                (a[0] - c[0] + (b[1] - d[1]), a[1] - c[1] - (b[0] - d[0])),
                (a[0] - b[0] + c[0] - d[0], a[1] - b[1] + c[1] - d[1]),
                (a[0] - c[0] - (b[1] - d[1]), a[1] - c[1] + (b[0] - d[0]))]

    buf = [z[rev4(i)] for i in range(256)]
    for p in range(64):
        buf[4 * p:4 * p + 4] = dft4(*buf[4 * p:4 * p + 4])
    for L in (16, 64, 256):
        Q = L // 4
        for g in range(0, 256, L):
            for k in range(Q):
                a = buf[g + k]
                tw = [(_q31(math.cos(2 * math.pi * r * k / L)), _q31(-math.sin(2 * math.pi * r * k / L)))
                      for r in (1, 2, 3)]
                b, c, d = (cmul(buf[g + k + r * Q], *tw[r - 1]) for r in (1, 2, 3))
                buf[g + k:g + L:Q] = dft4((a[0] >> 1, a[1] >> 1), b, c, d)
    X = [None] * 257
    X[0], X[256] = (buf[0][0] + buf[0][1], 0), (buf[0][0] - buf[0][1], 0)
    X[128] = (buf[128][0], -buf[128][1])
    for k in range(1, 128):
        A, B = buf[k], buf[256 - k]
        e = ((A[0] + B[0]) >> 1, (A[1] - B[1]) >> 1)
        t = cmul((A[1] + B[1], B[0] - A[0]), _q31(math.cos(2 * math.pi * k / 512)),
                 _q31(-math.sin(2 * math.pi * k / 512)))
        X[k], X[256 - k] = (e[0] + t[0], e[1] + t[1]), (e[0] - t[0], t[1] - e[1])
    return [(re * re + im * im) >> 16 for re, im in X]


def test_fft_is_its_written_definition():
    """fft.power_spectrum (vectorised, int32/int64 numpy) equals the docstring's definition in
    Python ints on speech, extreme and random frames."""
    import soundfile as sf

    pcm, _ = sf.read(str(Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets" / "sample.wav"),
                     dtype="int16")
    sp = F.frame_signal(pcm)
    frames = np.concatenate([sp[np.argsort(np.abs(sp).sum(1))[[0, len(sp) // 2, -1]]],
                             np.stack([F.frame_signal(x)[3] for x in extreme_signals(1600).values()]),
                             random_frames(8, 21)]).astype(np.int16)
    got = F.power_spectrum(frames, "fft")
    for i, fr in enumerate(frames):
        assert got[i].tolist() == _fft_spec_power(fr.tolist()), i


def test_fft_rounding_is_smmulr():
    """cmul_half rounds as SMMULR / SMMLSR / SMMLAR: checked against Python ints at the ties."""
    vals = [-(2**31), -(2**31) + 1, -12345, -3, -1, 0, 1, 3, 2**30, 2**31 - 1]
    for br in vals:
        for bi in vals:
            for wr, wi in [(2**31 - 1, 0), (0, -(2**31)), (1518500250, -1518500250), (-1, 1)]:
                re, im = FFT.cmul_half(np.int64(br), np.int64(bi), np.int64(wr), np.int64(wi))
                hr = (br * wr + 2**31) // 2**32          # floor division on Python ints
                assert re == hr + (2**31 - bi * wi) // 2**32
                assert im == (br * wi + 2**31) // 2**32 + (bi * wr + 2**31) // 2**32


def test_fft_intermediates_fit_int32_with_headroom():
    """Every int32 the C FFT forms stays below 2^30 in magnitude on extreme inputs (traced in
    fft.py), and below the analytic bound: a component after the stage that has combined 4^s of
    the complex samples is at most the sum of their |re| + |im|, halved s - 1 times."""
    w = F.WINDOW_Q15.astype(np.int64)
    zmax = np.maximum(np.abs((-32768 * w + 32) >> 6), np.abs((32767 * w + 32) >> 6))   # |Q9 sample|
    bound = int(zmax.sum())                      # all 400 samples, before any halving
    assert bound < 2**32 and (bound >> 3) + 8 < 2**29.1   # Z, X after the three halvings
    assert 8 * int(zmax.max()) < 2**27           # stage 1: 4 complex samples, no halving
    frames = np.concatenate([F.frame_signal(x)[:10] for x in extreme_signals(1600).values()]
                            + [random_frames(300, 12)])
    trace = []
    p = FFT.power_spectrum(frames, F.WINDOW_Q15, trace)
    worst = dict()
    for name, v in trace:
        worst[name] = max(worst.get(name, 0), v)
    assert set(worst) >= {"z", "butterfly inputs", "butterfly sums", "Z", "split sums", "X"}
    assert max(worst.values()) < 2**30, worst
    assert worst["X"] <= (bound >> 3) + 8 and worst["Z"] <= (bound >> 3) + 8
    assert int(p.max()) < 2**44                  # ma_frontend.h: power in [0, 2^44)


def test_features_close_to_float_reference():
    """int8 features against the float64 log-mel (eval/bench_frontend.float_reference) on a loud
    tone, a quiet tone, noise and +-3 LSB noise (0.5 s each). Broadband noise: both definitions
    within rounding (<= 1 step). Bands far below a tone's peak (window leakage, 80-100 dB down)
    are where the Q15 DFT's table error shows (25 steps); the FFT stays within 6 steps (its
    window is Q15 too) and has a third of the DFT's mean error."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
    try:
        from bench_frontend import float_reference
    finally:
        sys.path.pop(0)
    r = np.random.default_rng(3)
    x = np.concatenate([sine(440.0, 0.5, 0.5), sine(5000.0, 0.5, 0.01), r.integers(-9000, 9000, SR // 2),
                        r.integers(-3, 4, SR // 2)]).astype(np.int16)
    ref = np.clip(float_reference(x), -128, 127)
    err = {d: np.abs(F.features_from_pcm(x, d) - ref) for d in F.DEFINITIONS}
    noise = slice(101, 149)                    # frames wholly inside the loud-noise segment
    assert err["fft"][noise].max() <= 1.0 and err["dft"][noise].max() <= 1.0
    assert err["fft"].max() < 6.0, err["fft"].max()
    assert err["fft"].mean() < 0.5, err["fft"].mean()
    assert err["dft"].max() > 3 * err["fft"].max() and err["dft"].mean() > 3 * err["fft"].mean()


def test_fft_digit_reversal_tables():
    assert sorted(FFT.DIGIT_REV_256.tolist()) == list(range(256))
    assert (FFT.DIGIT_REV_64[FFT.DIGIT_REV_64] == np.arange(64)).all()      # its own inverse (the C uses it so)
    assert FFT.DIGIT_REV_256[1] == 64 and FFT.DIGIT_REV_256[4] == 16 and FFT.DIGIT_REV_64[1] == 16


def test_long_audio_is_chunked_consistently():
    """features_from_pcm works in blocks of CHUNK_FRAMES frames: a block boundary changes nothing."""
    x = np.random.default_rng(8).integers(-20000, 20000, (F.CHUNK_FRAMES + 37) * F.HOP).astype(np.int16)
    full = F.features_from_pcm(x, "fft")
    np.testing.assert_array_equal(full[F.CHUNK_FRAMES - 3:], F.features_from_frames(
        F.frame_signal(x)[F.CHUNK_FRAMES - 3:], "fft"))


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

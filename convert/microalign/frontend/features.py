"""Fixed-point log-mel frontend: int16 PCM in, int8 features out.

This module is *the* definition of the features used for training,
calibration and the device. Every step is integer arithmetic with stated
rounding, so the C implementation (``tflm_app/frontend``) reproduces it bit
for bit; its constants reach C through the header written by
:func:`microalign.frontend.header.write_header`.

Two definitions of steps 2-4 (the power spectrum) exist; :data:`DEFINITION`
names the one in use (and the generated header tells the C code which):

* ``"fft"``: a fixed-point real FFT (:mod:`.fft`: Q9 windowed samples, a
  radix-4 256-point complex FFT with Q31 twiddles and SMMULR rounding, the
  real-spectrum split), about 20 k Cortex-M7 instructions per frame;
* ``"dft"``: the direct DFT with Q15 tables below (steps 2-4 as listed), the
  definition the shipped model was trained on (about 136 k instructions).

Both give the power on the same scale (``|DFT512(xw)|**2 / 16``); the FFT's is
the more accurate (no Q15 trig tables). Steps 1 and 5-7 are shared.

Pipeline for frame ``t`` (``T = ceil(n_samples / HOP)`` frames; frame ``t``
is centred on the middle of the hop ``[t*HOP, (t+1)*HOP)`` so the frame
index converts to time as ``t * HOP / SAMPLE_RATE`` for its start):

1. ``x[n] = pcm[t*HOP - PAD_LEFT + n]`` for ``n < WIN`` (zero outside the signal).
2. Window: ``xw[n] = (x[n] * WINDOW_Q15[n] + 2**14) >> 15``.
3. DFT, bins ``k = 0..N_BINS-1``: ``re[k] = sum_n xw[n] * COS_Q15[(k*n) % N_FFT]``,
   ``im[k] = sum_n xw[n] * SIN_Q15[(k*n) % N_FFT]`` (int64, exact).
4. ``re' = (re + 2**(DFT_SHIFT-1)) >> DFT_SHIFT`` (same for im), power
   ``p = (re'^2 + im'^2) >> POWER_SHIFT``.
5. Mel: ``m[j] = sum_k p[k] * MEL_Q12[j, k]`` (int64).
6. Log: ``L = log2_q8(m + 1)``: ``e = floor(log2 v)``, 8 mantissa bits
   after the leading one (zero-filled when ``e < 8``) index ``LOG2_LUT``;
   ``L = 256*e + LOG2_LUT[f]``.
7. int8: ``q = clamp(((L - LOG_OFFSET) * FEAT_MUL + 2**(FEAT_SHIFT-1)) >> FEAT_SHIFT) - 128``
   clamped to ``[-128, 127]``.

``>>`` is an arithmetic shift (floor), as in C on two's-complement targets.
The model's float input is ``q * INPUT_SCALE``.
"""
from __future__ import annotations

import numpy as np

from . import fft as _fft

DEFINITIONS = ("dft", "fft")
DEFINITION = "fft"         # the features in use (the shipped model was trained on "dft": eval/bench_frontend.py)
SAMPLE_RATE = 16000
HOP = 160                  # 10 ms
WIN = 400                  # 25 ms
PAD_LEFT = (WIN - HOP) // 2  # 120: frame t centred on the middle of hop t
N_FFT = 512
N_BINS = N_FFT // 2 + 1    # 257
N_MELS = 40
F_MIN = 40.0
F_MAX = 7600.0
DFT_SHIFT = 14
POWER_SHIFT = 6
LOG_OFFSET = 12 * 256      # Q8 log2 of the mel energy mapped to -128 (about -100 dBFS)
FEAT_MUL = 341             # 341 / 2**14 ~ 1/48: 256 int8 steps span 48 octaves of power (144 dB), 0.56 dB a step
FEAT_SHIFT = 14
INPUT_SCALE = 1.0 / 32.0   # model input = int8 feature * INPUT_SCALE
FRAME_SECONDS = HOP / SAMPLE_RATE


def _window_q15() -> np.ndarray:
    n = np.arange(WIN)
    return np.round(32767.0 * np.sin(np.pi * n / WIN) ** 2).astype(np.int16)


def _trig_q15() -> tuple[np.ndarray, np.ndarray]:
    m = np.arange(N_FFT)
    return (np.round(32767.0 * np.cos(2 * np.pi * m / N_FFT)).astype(np.int16),
            np.round(32767.0 * np.sin(2 * np.pi * m / N_FFT)).astype(np.int16))


def _mel_q12() -> np.ndarray:
    """HTK-mel triangles, unnormalised, in Q12: ``librosa.filters.mel(sr=16000, n_fft=512, n_mels=40,
    fmin=40, fmax=7600, htk=True, norm=None)`` (float32) times 4096, rounded; the same arithmetic in
    numpy, so importing the frontend does not import librosa (tests/test_startup.py checks equality)."""
    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    def mel_to_hz(m):
        return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)

    fft_hz = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    mel_hz = mel_to_hz(np.linspace(hz_to_mel(F_MIN), hz_to_mel(F_MAX), N_MELS + 2))
    fdiff = np.diff(mel_hz)
    ramps = np.subtract.outer(mel_hz, fft_hz)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    fb = np.maximum(0.0, np.minimum(lower, upper)).astype(np.float32)
    return np.round(fb * 4096.0).astype(np.int16)


def _log2_lut() -> np.ndarray:
    f = np.arange(256)
    return np.round(256.0 * np.log2(1.0 + f / 256.0)).astype(np.int16)


WINDOW_Q15 = _window_q15()
COS_Q15, SIN_Q15 = _trig_q15()
MEL_Q12 = _mel_q12()
LOG2_LUT = _log2_lut()
# DFT basis as exact float64 integers: every partial sum stays below 2**53, so BLAS is exact.
# Bins k and N_FFT/2 - k share the even/odd half-sums of the samples (the rounded tables keep
# cos/sin symmetries exactly, checked below), which halves the work of the Python reference.
_HALF = N_FFT // 4 + 1                      # bins 0..128 computed, 129..256 mirrored
_K_N = (np.arange(_HALF)[:, None] * np.arange(WIN)[None, :]) % N_FFT
_BASIS_EVEN = np.concatenate([COS_Q15[_K_N[:, 0::2]], SIN_Q15[_K_N[:, 0::2]]], axis=0).T.astype(np.float64)
_BASIS_ODD = np.concatenate([COS_Q15[_K_N[:, 1::2]], SIN_Q15[_K_N[:, 1::2]]], axis=0).T.astype(np.float64)
_m = np.arange(N_FFT)
assert np.array_equal(COS_Q15[(N_FFT // 2 - _m) % N_FFT], -COS_Q15[_m]) and \
    np.array_equal(SIN_Q15[(N_FFT // 2 - _m) % N_FFT], SIN_Q15[_m]), "Q15 tables lost their symmetry"


def num_frames(n_samples: int) -> int:
    return -(-int(n_samples) // HOP)


def frame_signal(pcm: np.ndarray) -> np.ndarray:
    """[T, WIN] int64 frames (step 1)."""
    n = len(pcm)
    t = num_frames(n)
    padded = np.zeros(PAD_LEFT + t * HOP + WIN, dtype=np.int64)
    padded[PAD_LEFT:PAD_LEFT + n] = pcm
    return np.lib.stride_tricks.sliding_window_view(padded, WIN)[::HOP][:t]


def log2_q8(v: np.ndarray) -> np.ndarray:
    """Integer log2 in Q8 of positive int64 values (step 6)."""
    v = np.asarray(v, dtype=np.int64)
    if np.any(v <= 0):
        raise ValueError("log2_q8 needs positive values")
    e = np.floor(np.log2(v.astype(np.float64))).astype(np.int64)
    e -= (v >> e) == 0                      # float rounding up near a power of two
    e += (v >> np.minimum(e + 1, 62)) > 0
    frac = np.where(e >= 8, v >> np.maximum(e - 8, 0), v << np.maximum(8 - e, 0)) & 0xFF
    return 256 * e + LOG2_LUT[frac].astype(np.int64)


def _check_definition(definition: str | None) -> str:
    definition = DEFINITION if definition is None else definition
    if definition not in DEFINITIONS:
        raise ValueError(f"unknown frontend definition {definition!r}: expected one of {DEFINITIONS}")
    return definition


def power_spectrum(frames: np.ndarray, definition: str | None = None) -> np.ndarray:
    """[T, N_BINS] int64 power (steps 2-4) of [T, WIN] frames, by ``definition`` (default :data:`DEFINITION`)."""
    frames = np.asarray(frames)
    if frames.ndim != 2 or frames.shape[1] != WIN:
        raise ValueError(f"expected frames of shape [T, {WIN}], got {frames.shape}")
    if _check_definition(definition) == "fft":
        return _fft.power_spectrum(frames, WINDOW_Q15)
    return _power_spectrum_dft(frames.astype(np.int64))


def _power_spectrum_dft(frames: np.ndarray) -> np.ndarray:
    xw = ((frames * WINDOW_Q15.astype(np.int64) + (1 << 14)) >> 15).astype(np.float64)
    ev = np.rint(xw[:, 0::2] @ _BASIS_EVEN).astype(np.int64)   # [T, 2*_HALF]: cos | sin half-sums
    od = np.rint(xw[:, 1::2] @ _BASIS_ODD).astype(np.int64)
    # k <= 128: even + odd; N_FFT/2 - k: cos -> even - odd, sin -> odd - even (exact identities)
    re_lo, im_lo = ev[:, :_HALF] + od[:, :_HALF], ev[:, _HALF:] + od[:, _HALF:]
    re_hi, im_hi = ev[:, :_HALF] - od[:, :_HALF], od[:, _HALF:] - ev[:, _HALF:]
    re = np.concatenate([re_lo, re_hi[:, -2::-1]], axis=1)
    im = np.concatenate([im_lo, im_hi[:, -2::-1]], axis=1)
    half = 1 << (DFT_SHIFT - 1)
    re = (re + half) >> DFT_SHIFT
    im = (im + half) >> DFT_SHIFT
    return (re * re + im * im) >> POWER_SHIFT


_MEL_F64 = MEL_Q12.T.astype(np.float64)


def mel_energies(p: np.ndarray) -> np.ndarray:
    """[T, N_MELS] int64 ``p @ MEL_Q12.T`` (step 5), computed exactly with float64 BLAS.

    ``p < 2**51`` is split as ``hi * 2**26 + lo``; each half's weighted sums
    stay below 2**53, so both products are exact and recombine in int64.
    """
    hi, lo = p >> 26, p & ((1 << 26) - 1)
    s_hi = np.rint(hi.astype(np.float64) @ _MEL_F64).astype(np.int64)
    s_lo = np.rint(lo.astype(np.float64) @ _MEL_F64).astype(np.int64)
    return (s_hi << 26) + s_lo


CHUNK_FRAMES = 2048   # frames per block in features_from_pcm (bounds memory on long audio)


def features_from_frames(frames: np.ndarray, definition: str | None = None) -> np.ndarray:
    """int8 features [T, N_MELS] of [T, WIN] frames (steps 2-7)."""
    mel = mel_energies(power_spectrum(frames, definition))
    L = log2_q8(mel + 1)
    q = ((L - LOG_OFFSET) * FEAT_MUL + (1 << (FEAT_SHIFT - 1))) >> FEAT_SHIFT
    return (np.clip(q, 0, 255) - 128).astype(np.int8)


def features_from_pcm(pcm: np.ndarray, definition: str | None = None) -> np.ndarray:
    """int8 log-mel features [T, N_MELS] of int16 PCM at SAMPLE_RATE.

    ``definition``: ``"fft"`` or ``"dft"`` (see the module docstring); default :data:`DEFINITION`.
    """
    pcm = np.asarray(pcm)
    if pcm.ndim != 1:
        raise ValueError(f"expected mono PCM (1-D), got shape {pcm.shape}")
    if pcm.dtype != np.int16:
        raise TypeError(f"expected int16 PCM, got {pcm.dtype}")
    if len(pcm) == 0:
        raise ValueError("empty audio")
    definition = _check_definition(definition)
    t = num_frames(len(pcm))
    padded = np.zeros(PAD_LEFT + t * HOP + WIN, dtype=np.int16)
    padded[PAD_LEFT:PAD_LEFT + len(pcm)] = pcm
    frames = np.lib.stride_tricks.sliding_window_view(padded, WIN)[::HOP][:t]
    out = np.empty((t, N_MELS), np.int8)
    for i in range(0, t, CHUNK_FRAMES):
        out[i:i + CHUNK_FRAMES] = features_from_frames(frames[i:i + CHUNK_FRAMES], definition)
    return out


def float_to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] to int16 PCM (round to nearest, clipped)."""
    return np.clip(np.rint(np.asarray(audio, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def model_input(features_int8: np.ndarray) -> np.ndarray:
    """The float tensor the PyTorch model sees for int8 features."""
    return features_int8.astype(np.float32) * np.float32(INPUT_SCALE)

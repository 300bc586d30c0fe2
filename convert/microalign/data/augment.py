"""On-the-fly waveform augmentation that keeps word and phone times right.

Each transform is a plain function over float audio; the ones that move time
also return the moved segments:

================  ===============================================  ============================
transform         what it does                                     times
================  ===============================================  ============================
:func:`speed`     resample by ``factor`` (pitch moves with it)     divided by ``factor``
:func:`pitch`     pitch shift in semitones (phase vocoder)         unchanged (edges ±10 ms)
:func:`pad`       digital silence before / after                   shifted by the lead
:func:`reverb`    exponentially decaying noise RIR (RT60)          unchanged (direct path at 0)
:func:`bandlimit` zero-phase high-pass / low-pass (telephone)      unchanged (zero phase)
:func:`add_noise` white or pink noise at an SNR                    unchanged
:func:`gain`      level change, limited so nothing clips           unchanged
================  ===============================================  ============================

:class:`Augmenter` draws which transforms to apply and their parameters from
an :class:`AugmentConfig` and a seeded ``numpy.random.Generator``, in the
order speed → pitch → pad → reverb → band-limit → noise → gain (padding
before reverberation and noise, so the padding gets a reverb tail and
noise like real silence does).

>>> import numpy as np
>>> from microalign.corpus import Segment
>>> aug = Augmenter(AugmentConfig())
>>> audio = np.zeros(16000, np.float32); audio[4000:8000] = 0.1
>>> out, words = aug.apply(audio, 16000, [Segment("hi", 0.25, 0.5)], np.random.default_rng(0))
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Sequence, TypeVar

import numpy as np

from ..corpus import Segment, Utterance

T = TypeVar("T", Utterance, list)


def _shift_scale(segments: Sequence[Segment], scale: float = 1.0, shift: float = 0.0,
                 duration: float | None = None) -> list[Segment]:
    """Segments with times ``t * scale + shift``, clipped to [0, duration]."""
    out = []
    for s in segments:
        a, b = s.start * scale + shift, s.end * scale + shift
        if duration is not None:
            a, b = min(max(a, 0.0), duration), min(max(b, 0.0), duration)
        out.append(Segment(s.label, max(a, 0.0), max(b, a, 0.0)))
    return out


def speed(audio: np.ndarray, sr: int, factor: float, *segment_lists: Sequence[Segment]
          ) -> tuple[np.ndarray, list[list[Segment]]]:
    """Play ``factor`` times faster by resampling (soxr); every time is divided by ``factor``.

    Returns the new audio (same sample rate) and each segment list with its times scaled.
    """
    if not 0.5 <= factor <= 2.0:
        raise ValueError(f"speed factor must be in [0.5, 2], got {factor}")
    import soxr

    x = np.asarray(audio, dtype=np.float32)
    y = soxr.resample(x, sr * factor, sr, quality="HQ").astype(np.float32) if factor != 1.0 else x.copy()
    dur = len(y) / sr
    return y, [_shift_scale(segs, 1.0 / factor, 0.0, dur) for segs in segment_lists]


def pitch(audio: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    """Shift pitch by ``semitones`` keeping the duration (librosa's phase vocoder); times do not move."""
    if not -12.0 <= semitones <= 12.0:
        raise ValueError(f"pitch shift must be within ±12 semitones, got {semitones}")
    if semitones == 0:
        return np.asarray(audio, dtype=np.float32).copy()
    import librosa

    # a short STFT (32 ms, hop 8 ms) keeps word edges within ~10 ms; the first call JIT-compiles (a few s)
    n_fft = 1 << int(np.ceil(np.log2(0.032 * sr)))
    y = librosa.effects.pitch_shift(np.asarray(audio, dtype=np.float32), sr=sr, n_steps=float(semitones),
                                    res_type="soxr_hq", n_fft=n_fft, hop_length=n_fft // 4)
    return y[: len(audio)].astype(np.float32)


def pad(audio: np.ndarray, sr: int, lead: float, trail: float, *segment_lists: Sequence[Segment]
        ) -> tuple[np.ndarray, list[list[Segment]]]:
    """Add ``lead`` and ``trail`` seconds of digital silence; times shift by exactly ``round(lead*sr)/sr``."""
    if lead < 0 or trail < 0:
        raise ValueError(f"padding must be >= 0 s, got lead={lead} trail={trail}")
    n0, n1 = int(round(lead * sr)), int(round(trail * sr))
    x = np.asarray(audio, dtype=np.float32)
    y = np.concatenate([np.zeros(n0, np.float32), x, np.zeros(n1, np.float32)])
    return y, [_shift_scale(segs, 1.0, n0 / sr, len(y) / sr) for segs in segment_lists]


def room_impulse_response(sr: int, rt60: float, rng: np.random.Generator, drr_db: float = 3.0) -> np.ndarray:
    """A synthetic RIR: a unit direct path at sample 0 plus exponentially decaying Gaussian noise.

    The tail decays by 60 dB in ``rt60`` seconds, starts 1 ms after the
    direct path and carries ``drr_db`` dB less energy than it
    (direct-to-reverberant ratio).
    """
    if not 0.01 <= rt60 <= 3.0:
        raise ValueError(f"RT60 must be in [0.01, 3] s, got {rt60}")
    n = int(rt60 * sr)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)
    tail[: max(1, sr // 1000)] = 0.0
    tail *= np.sqrt(10 ** (-drr_db / 10.0) / max(np.sum(tail ** 2), 1e-12))
    h = tail
    h[0] = 1.0
    return h.astype(np.float32)


def reverb(audio: np.ndarray, sr: int, rt60: float, rng: np.random.Generator, drr_db: float = 3.0) -> np.ndarray:
    """Convolve with :func:`room_impulse_response` (same length out; the direct path keeps times)."""
    from scipy.signal import fftconvolve

    x = np.asarray(audio, dtype=np.float32)
    h = room_impulse_response(sr, rt60, rng, drr_db)
    y = fftconvolve(x, h)[: len(x)]
    peak_in, peak_out = float(np.max(np.abs(x), initial=0.0)), float(np.max(np.abs(y), initial=0.0))
    if peak_out > 0 and peak_in > 0:
        y *= peak_in / peak_out
    return y.astype(np.float32)


def bandlimit(audio: np.ndarray, sr: int, highpass_hz: float | None = None, lowpass_hz: float | None = None,
              order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth high-pass and/or low-pass (``sosfiltfilt``: no delay, times do not move)."""
    from scipy.signal import butter, sosfiltfilt

    y = np.asarray(audio, dtype=np.float64)
    nyq = sr / 2.0
    if highpass_hz is not None:
        if not 0 < highpass_hz < nyq:
            raise ValueError(f"high-pass cut-off must be in (0, {nyq}) Hz, got {highpass_hz}")
        y = sosfiltfilt(butter(order, highpass_hz, "highpass", fs=sr, output="sos"), y)
    if lowpass_hz is not None:
        if not 0 < lowpass_hz < nyq:
            raise ValueError(f"low-pass cut-off must be in (0, {nyq}) Hz, got {lowpass_hz}")
        y = sosfiltfilt(butter(order, lowpass_hz, "lowpass", fs=sr, output="sos"), y)
    return y.astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance pink (1/f power) noise of ``n`` samples, shaped in the frequency domain."""
    if n <= 0:
        return np.zeros(0, np.float32)
    from scipy.fft import next_fast_len

    m = next_fast_len(n, real=True)   # an FFT of a prime length n would be O(n^2)
    spec = np.fft.rfft(rng.standard_normal(m))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    y = np.fft.irfft(spec / np.sqrt(f), m)[:n]
    y -= y.mean()
    return (y / max(float(np.std(y)), 1e-12)).astype(np.float32)


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator, color: str = "white",
              speech: Sequence[Segment] | None = None, sr: int | None = None) -> np.ndarray:
    """Add white or pink noise at ``snr_db`` relative to the speech power.

    The speech power is measured inside ``speech`` segments when they (and
    ``sr``) are given, so leading/trailing silence does not lower it;
    otherwise over the whole signal.
    """
    if color not in ("white", "pink"):
        raise ValueError(f"noise color must be 'white' or 'pink', got {color!r}")
    x = np.asarray(audio, dtype=np.float32)
    if x.size == 0:
        return x.copy()
    ref = x
    if speech and sr:
        mask = np.zeros(x.size, bool)
        for s in speech:
            mask[int(s.start * sr):int(np.ceil(s.end * sr))] = True
        if mask.any():
            ref = x[mask]
    p = float(np.mean(ref.astype(np.float64) ** 2))
    if p <= 0:
        return x.copy()
    noise = rng.standard_normal(x.size).astype(np.float32) if color == "white" else pink_noise(x.size, rng)
    return (x + noise * np.float32(np.sqrt(p / 10 ** (snr_db / 10.0)))).astype(np.float32)


def gain(audio: np.ndarray, db: float, limit: float = 0.99) -> np.ndarray:
    """Multiply by ``db`` decibels, then scale down if the peak would pass ``limit`` (no clipping)."""
    y = np.asarray(audio, dtype=np.float32) * np.float32(10 ** (db / 20.0))
    peak = float(np.max(np.abs(y), initial=0.0))
    if peak > limit:
        y *= np.float32(limit / peak)
    return y


@dataclass
class AugmentConfig:
    """Probabilities and parameter ranges of :class:`Augmenter` (uniform draws within each range)."""

    p_speed: float = 0.5
    speed: tuple[float, float] = (0.9, 1.1)
    p_pitch: float = 0.2
    pitch_semitones: tuple[float, float] = (-2.0, 2.0)
    p_pad: float = 0.3
    pad_seconds: tuple[float, float] = (0.0, 0.5)
    p_reverb: float = 0.3
    rt60: tuple[float, float] = (0.1, 0.5)
    drr_db: tuple[float, float] = (0.0, 10.0)
    p_bandlimit: float = 0.2
    highpass_hz: tuple[float, float] = (100.0, 400.0)
    lowpass_hz: tuple[float, float] = (3000.0, 7000.0)
    p_noise: float = 0.5
    snr_db: tuple[float, float] = (10.0, 30.0)
    p_pink: float = 0.5
    p_gain: float = 0.8
    gain_db: tuple[float, float] = (-12.0, 6.0)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name.startswith("p_"):
                if not 0.0 <= v <= 1.0:
                    raise ValueError(f"{f.name} must be a probability in [0, 1], got {v}")
            elif not (isinstance(v, (tuple, list)) and len(v) == 2 and v[0] <= v[1]):
                raise ValueError(f"{f.name} must be a (low, high) range with low <= high, got {v!r}")


class Augmenter:
    """Random augmentation of one utterance at a time.

    ``apply(audio, sr, target, rng)`` takes float audio in [-1, 1], its sample
    rate, and either an :class:`~microalign.corpus.Utterance` (words and
    phones are moved; a copy comes back) or a list of word
    :class:`~microalign.corpus.Segment`; ``rng`` is a
    ``numpy.random.Generator`` (or an int seed). It returns ``(new_audio,
    new_target)`` of the same kind, at the same sample rate. The result is a
    pure function of the inputs and the generator's state.
    """

    def __init__(self, config: AugmentConfig | None = None) -> None:
        self.config = config or AugmentConfig()

    def apply(self, audio: np.ndarray, sr: int, target: T, rng: np.random.Generator | int) -> tuple[np.ndarray, T]:
        c = self.config
        if isinstance(rng, (int, np.integer)):
            rng = np.random.default_rng(int(rng))
        elif isinstance(rng, random.Random):
            raise TypeError("rng must be a numpy.random.Generator or an int seed, not random.Random")
        if sr <= 0:
            raise ValueError(f"sample rate must be positive, got {sr}")
        if isinstance(target, Utterance):
            words, phones = list(target.words), list(target.phones)
        elif isinstance(target, (list, tuple)):
            words, phones = list(target), []
        else:
            raise TypeError(f"target must be an Utterance or a list of Segment, not {type(target).__name__}")
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"audio must be mono (1-D), got shape {x.shape}")

        def u(r: tuple[float, float]) -> float:
            return float(rng.uniform(r[0], r[1]))

        if rng.random() < c.p_speed:
            x, (words, phones) = speed(x, sr, u(c.speed), words, phones)
        if rng.random() < c.p_pitch:
            x = pitch(x, sr, u(c.pitch_semitones))
        if rng.random() < c.p_pad:
            x, (words, phones) = pad(x, sr, u(c.pad_seconds), u(c.pad_seconds), words, phones)
        if rng.random() < c.p_reverb:
            x = reverb(x, sr, u(c.rt60), rng, u(c.drr_db))
        if rng.random() < c.p_bandlimit:
            hp = u(c.highpass_hz) if rng.random() < 0.7 else None
            lp = min(u(c.lowpass_hz), 0.45 * sr) if rng.random() < 0.8 else None
            x = bandlimit(x, sr, hp, lp)
        if rng.random() < c.p_noise:
            color = "pink" if rng.random() < c.p_pink else "white"
            x = add_noise(x, u(c.snr_db), rng, color, words, sr)
        if rng.random() < c.p_gain:
            x = gain(x, u(c.gain_db))
        else:
            x = gain(x, 0.0)
        if isinstance(target, Utterance):
            return x, dataclasses.replace(target, words=words, phones=phones)
        return x, words

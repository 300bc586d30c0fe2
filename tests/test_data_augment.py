"""Augmentation moves word/phone times exactly as it moves the audio."""
from __future__ import annotations

import numpy as np
import pytest

from microalign.corpus import Segment, Utterance
from microalign.data.augment import (AugmentConfig, Augmenter, add_noise, bandlimit, gain, pad, pink_noise, pitch,
                                     reverb, room_impulse_response, speed)

SR = 16000


def _burst_audio() -> tuple[np.ndarray, list[Segment]]:
    """1.5 s of silence with two tone bursts at 0.25–0.5 s and 0.75–1.0 s, and their word segments."""
    x = np.zeros(int(1.5 * SR), np.float32)
    t = np.arange(int(0.25 * SR)) / SR
    tone = (0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    x[4000:8000] = tone
    x[12000:16000] = tone
    return x, [Segment("one", 0.25, 0.5), Segment("two", 0.75, 1.0)]


def _onsets(x: np.ndarray, thr: float = 0.05) -> tuple[float, float]:
    nz = np.flatnonzero(np.abs(x) > thr)
    return nz[0] / SR, (nz[-1] + 1) / SR


def test_pad_shifts_times_by_exactly_the_pad():
    x, words = _burst_audio()
    y, (w2,) = pad(x, SR, 0.3, 0.2, words)
    assert len(y) == len(x) + int(0.3 * SR) + int(0.2 * SR)
    assert [(w.start, w.end) for w in w2] == [(pytest.approx(0.55), pytest.approx(0.8)),
                                              (pytest.approx(1.05), pytest.approx(1.3))]
    assert np.array_equal(y[int(0.3 * SR):int(0.3 * SR) + len(x)], x)
    with pytest.raises(ValueError, match="padding"):
        pad(x, SR, -0.1, 0.0, words)


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_scales_times_and_audio_together(factor):
    x, words = _burst_audio()
    phones = [Segment("w", 0.25, 0.3), Segment("ʌ", 0.3, 0.5)]
    y, (w2, p2) = speed(x, SR, factor, words, phones)
    assert abs(len(y) - len(x) / factor) <= 2
    assert w2[0].start == pytest.approx(0.25 / factor) and w2[1].end == pytest.approx(1.0 / factor)
    assert p2[1].start == pytest.approx(0.3 / factor)
    first, last = _onsets(y)
    assert first == pytest.approx(w2[0].start, abs=0.003)
    assert last == pytest.approx(w2[1].end, abs=0.003)


def test_pitch_keeps_length_and_timing():
    x, words = _burst_audio()
    y = pitch(x, SR, 2.0)
    assert len(y) == len(x)
    first, last = _onsets(y, 0.1)
    assert first == pytest.approx(0.25, abs=0.012) and last == pytest.approx(1.0, abs=0.012)
    # the tone moved up by about two semitones
    seg = y[13000:15000]
    f = np.argmax(np.abs(np.fft.rfft(seg * np.hanning(seg.size)))) * SR / seg.size
    assert f == pytest.approx(300 * 2 ** (2 / 12), rel=0.03)


def test_reverb_keeps_direct_path_and_has_rt60_decay():
    rng = np.random.default_rng(0)
    h = room_impulse_response(SR, 0.4, rng, drr_db=0.0)
    assert h[0] == 1.0 and len(h) == int(0.4 * SR)
    early = np.sum(h[SR // 100: SR // 100 + 800] ** 2)
    late = np.sum(h[int(0.2 * SR): int(0.2 * SR) + 800] ** 2)
    # 60 dB in 0.4 s -> about 30 dB less energy 0.19 s later
    assert 10 * np.log10(early / late) == pytest.approx(28.5, abs=4.0)
    x, _ = _burst_audio()
    y = reverb(x, SR, 0.3, np.random.default_rng(1))
    assert len(y) == len(x)
    assert _onsets(y)[0] == pytest.approx(0.25, abs=0.001), "onset stays where the word starts"
    assert np.mean(y[8200:9000] ** 2) > 100 * np.mean(x[8200:9000] ** 2 + 1e-12), "a tail fills the gap"


def test_bandlimit_is_zero_phase():
    x = np.zeros(4000, np.float32)
    x[2000] = 1.0
    y = bandlimit(x, SR, 300.0, 3400.0)
    assert int(np.argmax(np.abs(y))) == 2000
    with pytest.raises(ValueError, match="low-pass"):
        bandlimit(x, SR, None, 9000.0)


@pytest.mark.parametrize("color", ["white", "pink"])
def test_noise_reaches_the_snr(color):
    x, words = _burst_audio()
    y = add_noise(x, 20.0, np.random.default_rng(2), color, words, SR)
    mask = np.zeros(len(x), bool)
    mask[4000:8000] = mask[12000:16000] = True
    noise = y - x
    snr = 10 * np.log10(np.mean(x[mask] ** 2) / np.mean(noise ** 2))
    assert snr == pytest.approx(20.0, abs=0.5)


def test_pink_noise_spectrum_falls_3db_per_octave():
    n = pink_noise(1 << 16, np.random.default_rng(0))
    p = np.abs(np.fft.rfft(n)) ** 2
    f = np.fft.rfftfreq(n.size, 1 / SR)
    low = p[(f > 200) & (f < 400)].mean()
    high = p[(f > 3200) & (f < 6400)].mean()
    assert 10 * np.log10(low / high) == pytest.approx(10 * np.log10(16), abs=2.0)


def test_gain_never_clips():
    x, _ = _burst_audio()
    assert np.max(np.abs(gain(x, 20.0))) <= 0.99 + 1e-6
    assert np.allclose(gain(x, -6.0), x * 10 ** (-6 / 20), atol=1e-7)


def test_augmenter_is_deterministic_and_moves_utterance_times():
    x, words = _burst_audio()
    phones = [Segment("w", 0.25, 0.4), Segment("ʌ", 0.4, 0.5)]
    utt = Utterance("u1", "u1.wav", "one two", words, phones)
    cfg = AugmentConfig(p_speed=1.0, speed=(1.1, 1.1), p_pad=1.0, pad_seconds=(0.2, 0.2), p_pitch=0.0,
                        p_reverb=0.0, p_bandlimit=0.0, p_noise=0.0, p_gain=0.0)
    y, u2 = Augmenter(cfg).apply(x, SR, utt, np.random.default_rng(5))
    assert isinstance(u2, Utterance) and u2.id == "u1" and utt.words[0].start == 0.25  # input untouched
    assert u2.words[0].start == pytest.approx(0.25 / 1.1 + 0.2)
    assert u2.phones[1].start == pytest.approx(0.4 / 1.1 + 0.2)
    assert _onsets(y)[0] == pytest.approx(u2.words[0].start, abs=0.003)
    # the full default augmenter: same generator state -> same result
    aug = Augmenter()
    for seed in range(6):
        a1, w1 = aug.apply(x, SR, words, np.random.default_rng(seed))
        a2, w2 = aug.apply(x, SR, words, np.random.default_rng(seed))
        assert np.array_equal(a1, a2) and w1 == w2
        assert isinstance(w1, list) and np.max(np.abs(a1)) <= 0.99 + 1e-6
        assert all(0 <= w.start <= w.end <= len(a1) / SR + 1e-9 for w in w1)


def test_augment_config_and_inputs_are_validated():
    with pytest.raises(ValueError, match="p_noise"):
        AugmentConfig(p_noise=1.5)
    with pytest.raises(ValueError, match="snr_db"):
        AugmentConfig(snr_db=(30.0, 10.0))
    x, words = _burst_audio()
    with pytest.raises(ValueError, match="mono"):
        Augmenter().apply(np.zeros((2, 100), np.float32), SR, words, 0)
    with pytest.raises(TypeError, match="Utterance"):
        Augmenter().apply(x, SR, "one two", 0)

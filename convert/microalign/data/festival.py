"""Festival (``festival -b``) with the utterance's own word and segment times.

A Scheme script synthesises the text, saves the wave and prints the Word
relation (``word_start``, ``word_end``), each word's segments through the
SylStructure relation, and the whole Segment relation (``segment_start``,
``end``). From that:

- words keep festival's times; ``pau`` segments are silence (no word, no
  phone);
- a segment that belongs to no word and is not ``pau`` (the ked voice's
  linking r, for instance) goes to a neighbouring word: the previous one when
  it touches that word's end, otherwise the next one, and that word's span
  grows to cover it;
- festival's words must equal our normalised words (it drops apostrophes:
  "o'clock" comes back as "oclock", so they are compared without them; a
  possessive it splits off, "grace's" -> "grace" + "'s", is joined back);
  otherwise :class:`~microalign.data.tts_base.SynthesisError` is raised and
  the utterance is dropped.

Voices: ``kal`` and ``ked`` (diphone, 16 kHz; duration stretch and F0 mean/
range vary) and ``slt`` (HTS, 32 kHz, times on a 5 ms grid; duration stretch
varies, F0 does not). Festival's labels are good to about ±20 ms.
"""
from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..corpus import Segment
from .tts_base import Spoken, SynthesisError

#: Festival voice name -> the Scheme function that selects it.
VOICES: dict[str, str] = {"kal": "voice_kal_diphone", "ked": "voice_ked_diphone",
                          "slt": "voice_cmu_us_slt_arctic_hts"}
_DIPHONE = {"kal", "ked"}

_DUMP = """
(define (ma_dump utt)
  (mapcar (lambda (w)
     (format t "W\\t%s\\t%f\\t%f\\n" (item.name w) (item.feat w "word_start") (item.feat w "word_end"))
     (mapcar (lambda (syl)
               (mapcar (lambda (s) (format t "P\\t%s\\t%f\\t%f\\n" (item.name s) (item.feat s "segment_start")
                                           (item.feat s "end")))
                       (item.daughters syl)))
             (item.daughters (item.relation w 'SylStructure))))
   (utt.relation.items utt 'Word))
  (mapcar (lambda (s) (format t "S\\t%s\\t%f\\t%f\\n" (item.name s) (item.feat s "segment_start") (item.feat s "end")))
          (utt.relation.items utt 'Segment))
  (format t "E\\n"))
"""


@dataclass(frozen=True)
class FestivalVoice:
    """A festival voice and its settings.

    ``stretch`` is ``Duration_Stretch`` (> 1 is slower); ``f0_mean`` and
    ``f0_std`` (Hz) set the diphone voices' intonation target (ignored for slt).
    """

    name: str = "kal"
    stretch: float = 1.0
    f0_mean: float = 105.0
    f0_std: float = 14.0

    def __post_init__(self) -> None:
        if self.name not in VOICES:
            raise ValueError(f"unknown festival voice {self.name!r}; choose from {', '.join(VOICES)}")
        if not 0.3 <= self.stretch <= 3.0:
            raise ValueError(f"Duration_Stretch {self.stretch} is outside [0.3, 3]")

    @property
    def speaker(self) -> str:
        return f"festival-{self.name}"

    def scheme(self) -> str:
        s = f"({VOICES[self.name]})\n(Parameter.set 'Duration_Stretch {self.stretch:.4f})\n"
        if self.name in _DIPHONE:
            s += (f"(set! int_lr_params '((target_f0_mean {self.f0_mean:.1f}) (target_f0_std {self.f0_std:.1f}) "
                  f"(model_f0_mean 170) (model_f0_std 34)))\n")
        return s


def random_voice(rng: random.Random, voices: tuple[str, ...] = tuple(VOICES),
                 stretch: tuple[float, float] = (0.8, 1.25)) -> FestivalVoice:
    """A random voice with Duration_Stretch in ``stretch`` and, for diphone voices, a random F0 target."""
    name = rng.choice(voices)
    return FestivalVoice(name, round(rng.uniform(*stretch), 4), round(rng.uniform(80.0, 150.0), 1),
                         round(rng.uniform(8.0, 28.0), 1))


@dataclass
class FestivalResult:
    audio: np.ndarray  # int16
    sample_rate: int
    words: list[Segment]
    phones: list[Segment]


def find_festival() -> str:
    """Path of the festival binary, or FileNotFoundError saying what to install."""
    exe = shutil.which("festival")
    if exe is None:
        raise FileNotFoundError("festival not found: install the Debian packages festival festvox-kallpc16k "
                                "festvox-kdlpc16k festvox-us-slt-hts")
    return exe


def _parse(out: str, words: list[str]) -> tuple[list[Segment], list[Segment]]:
    """Word and phone segments from the script's dump, checked against ``words``."""
    fw: list[list] = []        # [name, start, end, [segments]]
    segs: list[tuple[str, float, float]] = []
    for line in out.splitlines():
        parts = line.split("\t")
        if parts[0] == "W" and len(parts) == 4:
            fw.append([parts[1], float(parts[2]), float(parts[3]), []])
        elif parts[0] == "P" and len(parts) == 4 and fw:
            fw[-1][3].append((parts[1], float(parts[2]), float(parts[3])))
        elif parts[0] == "S" and len(parts) == 4:
            segs.append((parts[1], float(parts[2]), float(parts[3])))
    # festival splits some possessives ("grace's" -> "grace" + "'s"): join a word that starts with an apostrophe
    joined: list[list] = []
    for w in fw:
        if joined and w[0].startswith("'"):
            prev = joined[-1]
            prev[0] += w[0]
            prev[1], prev[2] = min(prev[1], w[1]), max(prev[2], w[2])
            prev[3].extend(w[3])
        else:
            joined.append(w)
    fw = joined
    got = [w[0].lower().replace("'", "") for w in fw]
    want = [w.replace("'", "") for w in words]
    if got != want:
        raise SynthesisError(f"festival's words do not match ours ({len(got)} vs {len(words)}: "
                             f"{' '.join(got)[:60]!r})")
    owned = {(round(s, 4), round(e, 4)) for w in fw for _, s, e in w[3]}
    for name, s, e in segs:
        if name == "pau" or (round(s, 4), round(e, 4)) in owned or e <= s:
            continue
        # a segment of no word (linking r): give it to the word it touches, preferring the previous one
        prev = [w for w in fw if abs(w[2] - s) < 1e-4]
        nxt = [w for w in fw if abs(w[1] - e) < 1e-4]
        target = prev[-1] if prev else (nxt[0] if nxt else min(fw, key=lambda w: min(abs(w[2] - s), abs(w[1] - e))))
        target[3].append((name, s, e))
        target[3].sort(key=lambda p: p[1])
        target[1], target[2] = min(target[1], s), max(target[2], e)
    seg_words = [Segment(ours, max(0.0, w[1]), max(w[1], w[2])) for ours, w in zip(words, fw)]
    phones = [Segment(n, max(0.0, s), e) for w in fw for n, s, e in w[3] if e > s]
    return seg_words, phones


class FestivalSynth:
    """Runs ``festival -b`` on a script per call; :meth:`synthesize` returns audio and times."""

    def __init__(self, timeout: float = 120.0) -> None:
        self.exe = find_festival()
        self.timeout = timeout
        self._tmp = Path(tempfile.mkdtemp(prefix="microalign-festival-"))

    def synthesize(self, words: list[str], voice: FestivalVoice) -> FestivalResult:
        """Speak normalised words with ``voice``; SynthesisError if festival fails or its words differ."""
        import soundfile as sf

        if not words:
            raise ValueError("nothing to synthesise: empty word list")
        bad = [w for w in words if not w or any(c in w for c in '"\\()')]
        if bad:
            raise ValueError(f"words must be normalised (no quotes or brackets): {bad[0]!r}")
        wav = self._tmp / "out.wav"
        script = self._tmp / "run.scm"
        script.write_text(_DUMP + voice.scheme()
                          + f'(set! ma_utt (SynthText "{" ".join(words)}"))\n'
                          + f'(utt.save.wave ma_utt "{wav}" \'riff)\n(ma_dump ma_utt)\n', encoding="utf-8")
        try:
            run = subprocess.run([self.exe, "-b", str(script)], capture_output=True, text=True,
                                 timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise SynthesisError(f"festival took more than {self.timeout:.0f} s") from None
        if run.returncode != 0 or "\nE" not in "\n" + run.stdout or not wav.is_file():
            raise SynthesisError(f"festival failed (exit {run.returncode}): {(run.stderr or run.stdout)[-200:]}")
        audio, sr = sf.read(str(wav), dtype="int16")
        wav.unlink()
        if audio.ndim > 1:
            audio = audio.mean(axis=1).astype(np.int16)
        seg_words, phones = _parse(run.stdout, words)
        return FestivalResult(audio, sr, seg_words, phones)

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __del__(self) -> None:
        self.close()


class FestivalEngine:
    """The festival engine of :func:`microalign.data.synth.synthesize_engine` (split by utterance)."""

    name = "festival"

    def __init__(self, voices: tuple[str, ...] = tuple(VOICES)) -> None:
        self.synth = FestivalSynth()
        self.voices = voices

    def speak(self, words: list[str], rng: random.Random, test: bool) -> Spoken:
        voice = random_voice(rng, self.voices)
        r = self.synth.synthesize(words, voice)
        return Spoken(r.audio, r.sample_rate, r.words, r.phones, voice.speaker)

    def close(self) -> None:
        self.synth.close()

"""Pocketsphinx forced alignment as a teacher (CPU, no downloads: the PyPI package ships the model).

Pocketsphinx 5 aligns a known word sequence with its ``set_align_text``
search (a finite-state grammar of the words with optional silences and
noises between them), then a second pass (``set_alignment``) gives phone
and word boundaries from the same frames. Its frames are 10 ms: a word
starting at frame ``s`` and ending at frame ``e`` spans
``[s * 0.01, (e + 1) * 0.01]`` seconds.

Words outside the CMU dictionary are added with pronunciations from
:class:`~microalign.teachers.lexicon.Pronouncer` (extra lexicons, derived
forms, espeak-ng, built-in rules); the teacher remembers which words it
added and where their pronunciations came from (:attr:`oov`).

On the TIMIT dev sample (40 utterances) this gives a mean absolute word
boundary error of about 23 ms.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..corpus import Segment
from .base import SAMPLE_RATE, Teacher, TeacherAlignment, TeacherError, check_input, finish_segments
from .lexicon import LexiconError, Pronouncer

FRAME = 0.01  #: seconds per pocketsphinx frame
#: pocketsphinx words that are not transcript words
_FILLERS = {"<s>", "</s>", "<sil>"}
#: each phone is a 3-state HMM: it needs at least 3 frames
_MIN_FRAMES_PER_PHONE = 3


def _is_filler(name: str) -> bool:
    return name in _FILLERS or name.startswith("[") or name.startswith("+")


def _base_word(name: str) -> str:
    """``word(2)`` (an alternate pronunciation) -> ``word``."""
    return name[: name.index("(")] if name.endswith(")") and "(" in name else name


class PocketsphinxTeacher(Teacher):
    """Forced alignment with pocketsphinx's US English model.

    Parameters:
        lexicons: extra pronunciation lexicons (ARPAbet; stress digits are
            dropped) consulted for words CMUdict lacks, e.g. speechocean762's
            ``lexicon.txt``.
        letter_to_sound: fallback for words in no lexicon: ``"auto"``
            (espeak-ng if installed, else built-in rules), ``"espeak"``,
            ``"rules"`` or ``"none"`` (such words fail the utterance).
        phones: also return phone segments (ARPAbet, upper case, no stress;
            silences left out). Costs a second decoding pass.
        beam, wbeam, pbeam: pocketsphinx search beams. Wide by default:
            forced alignment has a tiny search space, and narrow beams make
            alignment fail on unusual speech ("final result does not match
            the grammar").
        hmm, dictionary: acoustic model folder and dictionary; default the
            en-us model shipped with the pocketsphinx package.

    The decoder is created on first use (so the teacher pickles cheaply
    for worker processes). One instance is not thread-safe.
    """

    name = "pocketsphinx"

    def __init__(self, *, lexicons: Iterable[str | Path] = (), letter_to_sound: str = "auto",
                 phones: bool = True, beam: float = 1e-200, wbeam: float = 1e-200, pbeam: float = 1e-200,
                 hmm: str | Path | None = None, dictionary: str | Path | None = None):
        self.lexicons = [str(p) for p in lexicons]
        for p in self.lexicons:
            if not Path(p).is_file():
                raise FileNotFoundError(f"lexicon not found: {p}")
        self.letter_to_sound = letter_to_sound
        self.phones = phones
        self.beams = dict(beam=beam, wbeam=wbeam, pbeam=pbeam)
        self.hmm = str(hmm) if hmm else None
        self.dictionary = str(dictionary) if dictionary else None
        #: words added to the decoder's dictionary -> source of their pronunciation
        self.oov: dict[str, str] = {}
        self._decoder = None
        self._pronouncer: Pronouncer | None = None
        if letter_to_sound not in ("auto", "espeak", "rules", "none"):
            raise ValueError(f"letter_to_sound must be auto, espeak, rules or none, not {letter_to_sound!r}")

    # pickling for worker processes: the decoder is rebuilt there
    def __getstate__(self) -> dict:
        d = self.__dict__.copy()
        d["_decoder"] = None
        d["_pronouncer"] = None
        return d

    def _load(self):
        if self._decoder is not None:
            return self._decoder
        try:
            import pocketsphinx as ps
        except ImportError as e:
            raise TeacherError("the pocketsphinx teacher needs the 'pocketsphinx' package (pip install pocketsphinx)"
                               ) from e
        model = ps.get_model_path()
        hmm = self.hmm or os.path.join(model, "en-us", "en-us")
        dic = self.dictionary or os.path.join(model, "en-us", "cmudict-en-us.dict")
        for what, p in (("acoustic model folder", hmm), ("dictionary", dic)):
            if not os.path.exists(p):
                raise TeacherError(f"pocketsphinx {what} not found: {p}")
        try:
            self._decoder = ps.Decoder(hmm=hmm, dict=dic, lm=None, samprate=SAMPLE_RATE, bestpath=False,
                                       loglevel="FATAL", **self.beams)
        except (RuntimeError, ValueError) as e:
            raise TeacherError(f"cannot start pocketsphinx with model {hmm}: {e}") from e
        try:
            self._pronouncer = Pronouncer(self._decoder.lookup_word, self.lexicons, self.letter_to_sound)
        except LexiconError as e:
            raise TeacherError(str(e)) from None
        for w in self.oov:  # words added before pickling
            self._ensure_word(w)
        return self._decoder

    def _ensure_word(self, word: str) -> int:
        """Make sure ``word`` is in the decoder's dictionary; returns its phone count."""
        d = self._decoder
        pron = d.lookup_word(word)
        if pron is None:
            try:
                phones, source = self._pronouncer(word)
            except LexiconError as e:
                raise TeacherError(str(e)) from None
            try:
                d.add_word(word, " ".join(phones), True)
            except RuntimeError as e:
                raise TeacherError(f"pocketsphinx refused pronunciation {' '.join(phones)!r} for {word!r}: {e}"
                                   ) from None
            self.oov[word] = source
            return len(phones)
        return len(pron.split())

    def pronunciation(self, word: str) -> str:
        """The ARPAbet pronunciation the teacher uses for ``word`` (adding it if it is out of the dictionary)."""
        self._load()
        self._ensure_word(word.lower())
        return self._decoder.lookup_word(word.lower())

    def align_detailed(self, pcm_int16_16k: np.ndarray, words: Sequence[str]) -> TeacherAlignment:
        words = check_input(pcm_int16_16k, words)
        d = self._load()
        lw = [w.lower() for w in words]
        n_phones = sum(self._ensure_word(w) for w in lw)
        n_frames = len(pcm_int16_16k) // int(SAMPLE_RATE * FRAME)
        if n_frames < _MIN_FRAMES_PER_PHONE * n_phones:
            raise TeacherError(f"audio too short: {len(pcm_int16_16k) / SAMPLE_RATE:.2f} s for {n_phones} phones"
                               f" ({len(words)} words) needs at least {_MIN_FRAMES_PER_PHONE * n_phones * FRAME:.2f} s")
        oov = {w: self.oov[w] for w in lw if w in self.oov}
        duration = len(pcm_int16_16k) / SAMPLE_RATE
        raw = pcm_int16_16k.astype("<i2", copy=False).tobytes()

        try:
            d.set_align_text(" ".join(lw))
            d.start_utt()
            d.process_raw(raw, full_utt=True)
            d.end_utt()
        except RuntimeError as e:
            raise TeacherError(f"pocketsphinx alignment failed: {e}") from None
        if d.hyp() is None:
            raise TeacherError("pocketsphinx found no alignment (the audio may not contain the transcript,"
                               " or be cut short)")
        spans = [(s.start_frame, s.end_frame) for s in d.seg() if not _is_filler(s.word)]
        names = [_base_word(s.word) for s in d.seg() if not _is_filler(s.word)]
        phones: list[Segment] = []
        if self.phones:
            try:
                d.set_alignment()
                d.start_utt()
                d.process_raw(raw, full_utt=True)
                d.end_utt()
                al = d.get_alignment()
            except RuntimeError:
                al = None
            if al is not None:
                wa = [w for w in al.words() if not _is_filler(w.name)]
                if [_base_word(w.name) for w in wa] == lw:
                    spans = [(w.start, w.start + w.duration - 1) for w in wa]
                    names = lw
                    for p in al.phones():
                        if p.name == "SIL" or p.name.startswith("+"):
                            continue
                        s, e = p.start * FRAME, min((p.start + p.duration) * FRAME, duration)
                        phones.append(Segment(p.name, round(min(s, e), 5), round(e, 5)))
        if names != lw:
            raise TeacherError(f"pocketsphinx returned words {names} for {lw}")
        seconds = [(s * FRAME, (e + 1) * FRAME) for s, e in spans]
        return TeacherAlignment(finish_segments(words, seconds, duration), phones, oov)

"""Phone targets for the auxiliary training head (issue 13: pronunciation knowledge in training).

A character model has to learn English spelling-to-sound from little real
speech. During training an extra output layer scores ARPAbet phones (39 +
silence) and is trained with the same latent-boundary word loss as the
characters (:func:`microalign.train.loss.alignment_loss`), on each word's
dictionary pronunciation: the encoder must then represent what a word
*sounds* like, not only how it is spelt. The head is not part of the exported
model (:meth:`microalign.model.StudentAligner.forward` never computes it), so
it costs nothing on the device.

Pronunciations: CMUdict as shipped with pocketsphinx (the first variant, no
stress), then :class:`microalign.teachers.lexicon.Pronouncer` (derived forms,
espeak-ng letter-to-sound, built-in rules) for the rest, looked up once per
word type.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from ..teachers.lexicon import ARPABET, LexiconError, Pronouncer, read_lexicon

#: Phone ids of the auxiliary head: 0 is silence, then ARPAbet in sorted order.
PHONES: tuple[str, ...] = ("<sil>",) + tuple(sorted(ARPABET))
NUM_PHONES = len(PHONES)
_ID = {p: i for i, p in enumerate(PHONES)}


def cmudict_path() -> Path:
    """pocketsphinx's CMUdict (``cmudict-en-us.dict``), the teacher's own dictionary."""
    try:
        import pocketsphinx
    except ImportError as e:
        raise LexiconError("phone targets need the 'pocketsphinx' package for its CMUdict "
                           "(pip install pocketsphinx, part of the 'train' extra)") from e
    return Path(os.path.join(pocketsphinx.get_model_path(), "en-us", "cmudict-en-us.dict"))


class PhoneLexicon:
    """word -> phone ids (None when no pronunciation fits), cached per word type."""

    def __init__(self, dictionary: str | Path | None = None, letter_to_sound: str = "auto") -> None:
        self.dict = read_lexicon(dictionary or cmudict_path())
        self.pronouncer = Pronouncer(lambda w: " ".join(self.dict[w][0]) if w in self.dict else None,
                                     letter_to_sound=letter_to_sound)
        self.sources: dict[str, int] = {}

    @lru_cache(maxsize=None)
    def __call__(self, word: str) -> tuple[int, ...] | None:
        w = re.sub(r"[^a-z']", "", word.lower())
        if not w:
            return None
        if w in self.dict:
            phones, source = self.dict[w][0], "cmudict"
        else:
            try:
                phones, source = self.pronouncer(w)
            except LexiconError:
                return None
        self.sources[source] = self.sources.get(source, 0) + 1
        return tuple(_ID[p] for p in phones if p in _ID) or None

    def table(self, words: Iterable[str]) -> dict[str, tuple[int, ...]]:
        """Pronunciations of every word type in ``words`` (for worker processes: a plain dict)."""
        out = {}
        for w in set(words):
            ph = self(w)
            if ph:
                out[w] = ph
        return out

"""Transcript normalisation: written text -> spoken words a token table covers.

One normaliser per language, chosen by the token table's language tag
(``"en"`` -> :mod:`microalign.text.en`). A normaliser is a function
``(text, table) -> list[NormalizedWord]``: it spells out what is written but
not said (numbers, symbols), drops punctuation, and keeps for every spoken
word the whitespace-separated token it came from, so the aligner can report
times per spoken word and the writers can regroup them by source token.

Adding a language (``text/zh.py``, say) is a module with such a function and
one :func:`register_normalizer` call (or an entry in :data:`_BUILTIN`, loaded
on first use); :func:`normalize` then checks that every word it returns is
made of the table's characters, so a normaliser cannot hand the model a
character it does not score.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from .tokens import ENGLISH, TokenTable


class TextError(ValueError):
    """A transcript that cannot be turned into spoken words."""


@dataclass(frozen=True)
class NormalizedWord:
    text: str          #: spoken form, characters from the token table only
    source: str        #: the original whitespace-separated token
    source_index: int  #: index of that token in the transcript
    span: tuple[int, int]  #: character offsets of the token in the transcript


#: ``(text, table) -> spoken words``
Normalizer = Callable[[str, TokenTable], "list[NormalizedWord]"]

#: Normalisers in this package, imported on first use: language -> "module:function".
_BUILTIN: dict[str, str] = {"en": "microalign.text.en:normalize"}
_REGISTRY: dict[str, Normalizer] = {}


def register_normalizer(language: str, fn: Normalizer, *, replace: bool = False) -> None:
    """Use ``fn`` for tables whose language is ``language`` (or a subtag of it: ``en`` serves ``en-GB``)."""
    if not isinstance(language, str) or not language:
        raise ValueError(f"language must be a non-empty tag, got {language!r}")
    if not callable(fn):
        raise TypeError(f"normaliser for {language!r} must be callable, got {type(fn).__name__}")
    if not replace and (language in _REGISTRY or language in _BUILTIN):
        raise ValueError(f"a normaliser for {language!r} is already registered (pass replace=True)")
    _REGISTRY[language] = fn


def unregister_normalizer(language: str) -> None:
    """Remove a normaliser added with :func:`register_normalizer` (built-in ones stay)."""
    _REGISTRY.pop(language, None)


def languages() -> list[str]:
    """Languages with a normaliser."""
    return sorted(set(_REGISTRY) | set(_BUILTIN))


def normalizer_for(language: str) -> Normalizer:
    """The normaliser of ``language``: an exact match first, then its primary subtag (``zh-Hans`` -> ``zh``)."""
    for tag in (language, language.split("-")[0]):
        if tag in _REGISTRY:
            return _REGISTRY[tag]
        if tag in _BUILTIN:
            module, name = _BUILTIN[tag].split(":")
            fn = getattr(importlib.import_module(module), name)
            _REGISTRY[tag] = fn
            return fn
    raise TextError(f"no transcript normaliser for language {language!r} (have: {', '.join(languages())}); "
                    "add one with microalign.text.normalize.register_normalizer")


def normalize(text: str, table: TokenTable | None = None) -> list[NormalizedWord]:
    """Spoken words of a transcript, each mapped back to its source token.

    ``table`` (default: :data:`~microalign.text.tokens.ENGLISH`) picks the
    normaliser by its language and gives the characters words may contain.
    Raises :class:`TextError` for an empty transcript (nothing speakable), a
    character outside the table (named with its code point) or a language
    without a normaliser.
    """
    table = ENGLISH if table is None else table
    if not isinstance(table, TokenTable):
        raise TypeError(f"table must be a TokenTable, not {type(table).__name__}")
    if not isinstance(text, str):
        raise TextError(f"transcript must be a string, not {type(text).__name__}")
    words = normalizer_for(table.language)(text, table)
    if not words:
        raise TextError("transcript is empty (no words to align)")
    for w in words:
        if not w.text:
            raise TextError(f"the {table.language!r} normaliser returned an empty word for {w.source!r}")
        for ch in w.text:
            if not table.has_char(ch):
                raise TextError(f"character {ch!r} (U+{ord(ch):04X}) of {w.source!r} is not in the token table "
                                f"(language {table.language!r})")
    return words

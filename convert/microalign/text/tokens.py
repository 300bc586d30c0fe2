"""The character token table: one definition for Python, the model and the C code.

Token 0 is silence (``<sil>``): what a frame scores when no character is
being spoken. Ids 1.. are characters, listed by Unicode code point in
ascending order so the microcontroller can map a code point to an id with a
binary search over :data:`CODEPOINTS` (``tflm_app`` gets them through the
generated header ``microalign_tokens.h``). Adding a script (CJK, for
example) means appending its characters here and retraining the output
layer; nothing else hard-codes the table.
"""
from __future__ import annotations

from typing import Sequence

SILENCE = "<sil>"
SILENCE_ID = 0

#: Characters with a token, in ascending code-point order (apostrophe first).
CHARACTERS: tuple[str, ...] = ("'",) + tuple(chr(c) for c in range(ord("a"), ord("z") + 1))

#: Everything the model scores, id -> symbol.
TOKENS: tuple[str, ...] = (SILENCE,) + CHARACTERS
NUM_TOKENS = len(TOKENS)
CODEPOINTS: tuple[int, ...] = tuple(ord(c) for c in CHARACTERS)
_ID = {c: i + 1 for i, c in enumerate(CHARACTERS)}

assert list(CODEPOINTS) == sorted(CODEPOINTS), "CHARACTERS must be sorted by code point"


class TokenError(ValueError):
    """A character that has no token."""


def char_to_id(ch: str) -> int:
    try:
        return _ID[ch]
    except KeyError:
        raise TokenError(f"character {ch!r} (U+{ord(ch):04X}) is not in the token table") from None


def encode_word(word: str) -> list[int]:
    """Token ids of one normalised word (no silence)."""
    if not word:
        raise TokenError("empty word")
    return [char_to_id(c) for c in word]


def encode_words(words: Sequence[str]) -> list[list[int]]:
    return [encode_word(w) for w in words]


def decode_ids(ids: Sequence[int]) -> str:
    return "".join(TOKENS[i] if i else " " for i in ids)

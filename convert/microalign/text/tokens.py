"""The character token table: what a model scores, as data.

A :class:`TokenTable` is the contract between a model, the text front end and
the C code: token 0 is silence (``<sil>``, what a frame scores when no
character is being spoken; the decoder's blank), ids ``1..`` are characters
listed by Unicode code point in ascending order, so the microcontroller maps
a code point to an id with a binary search (``ma_token_id`` in the generated
header ``microalign_tokens.h``, :mod:`microalign.text.header`). The table
carries its language tag, which picks the transcript normaliser
(:func:`microalign.text.normalize.normalize`).

Every checkpoint records its table (:mod:`microalign.model.checkpoint`);
:func:`microalign.model.checkpoint.tokens_for_model` gives the table of a
checkpoint or a ``.tflite`` model. Another language is another table (and a
retrained output layer), not a code change::

    >>> t = TokenTable(tuple("abc"), language="qaa")
    >>> t.encode_word("cab"), t.decode_ids([3, 1, 0, 2])
    ([3, 1, 2], 'ca b')

:data:`ENGLISH` is the table of the shipped model (silence, apostrophe,
a–z). The module-level names below it (``TOKENS``, ``NUM_TOKENS``,
``encode_word``, ...) are that table's, kept for callers that are English
only (the synthetic decoder tests, the training targets of the English
corpora); code that handles a model should use the model's table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

SILENCE = "<sil>"
SILENCE_ID = 0
TABLE_FORMAT = "microalign-tokens/1"

_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


class TokenError(ValueError):
    """A character that has no token, or a token table that is not valid."""


@dataclass(frozen=True)
class TokenTable:
    """Characters a model scores, with silence as token 0.

    ``characters``: one Unicode code point each, no whitespace, no control
    characters, strictly ascending by code point; token ``i + 1`` is
    ``characters[i]``. ``language``: a BCP-47-style tag (``"en"``,
    ``"zh"``, ``"qaa"`` for a private one) naming the normaliser.
    ``silence``: the symbol printed for token 0.
    """

    characters: tuple[str, ...]
    language: str = "en"
    silence: str = SILENCE
    _ids: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        chars = self.characters
        if isinstance(chars, str) or not isinstance(chars, (tuple, list)):
            raise TokenError(f"characters must be a tuple of one-character strings, got {type(chars).__name__}")
        chars = tuple(chars)
        object.__setattr__(self, "characters", chars)
        if not chars:
            raise TokenError("a token table needs at least one character")
        for i, c in enumerate(chars):
            if not isinstance(c, str) or len(c) != 1:
                raise TokenError(f"character {i} of the table is {c!r}: each token is exactly one code point")
            if c.isspace() or not c.isprintable():
                raise TokenError(f"character {i} of the table (U+{ord(c):04X}) is whitespace or a control "
                                 "character; words are split on whitespace and silence is token 0")
        cps = [ord(c) for c in chars]
        for i in range(1, len(cps)):
            if cps[i] <= cps[i - 1]:
                raise TokenError(f"characters must be strictly ascending by code point: {chars[i - 1]!r} "
                                 f"(U+{cps[i - 1]:04X}) comes before {chars[i]!r} (U+{cps[i]:04X})")
        if not isinstance(self.language, str) or not _LANGUAGE.fullmatch(self.language):
            raise TokenError(f"language must be a tag like 'en' or 'zh-Hans', got {self.language!r}")
        if not isinstance(self.silence, str) or not self.silence or self.silence in chars:
            raise TokenError(f"silence symbol must be a non-empty string that is not a character, "
                             f"got {self.silence!r}")
        object.__setattr__(self, "_ids", {c: i + 1 for i, c in enumerate(chars)})

    # ------------------------------------------------------------------ the table
    @property
    def silence_id(self) -> int:
        return SILENCE_ID

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token, id -> symbol (silence first)."""
        return (self.silence,) + self.characters

    @property
    def num_tokens(self) -> int:
        return len(self.characters) + 1

    # a read-only sequence of the token symbols (id -> symbol), usable wherever a list of tokens is expected
    def __len__(self) -> int:
        return self.num_tokens

    def __getitem__(self, token_id):
        return self.tokens[token_id]

    def __iter__(self):
        return iter(self.tokens)

    def __contains__(self, symbol: object) -> bool:
        return symbol == self.silence or symbol in self._ids

    @property
    def codepoints(self) -> tuple[int, ...]:
        return tuple(ord(c) for c in self.characters)

    def has_char(self, ch: str) -> bool:
        """Whether ``ch`` is one of the table's characters (silence is not a character)."""
        return ch in self._ids

    def symbol(self, token_id: int) -> str:
        """The symbol of ``token_id`` (the silence symbol for 0)."""
        if not 0 <= int(token_id) < self.num_tokens:
            raise TokenError(f"token id {token_id} is outside this table (0..{self.num_tokens - 1})")
        return self.tokens[int(token_id)]

    # ------------------------------------------------------------------ encode / decode
    def char_to_id(self, ch: str) -> int:
        try:
            return self._ids[ch]
        except (KeyError, TypeError):
            pass
        if isinstance(ch, str) and len(ch) == 1:
            raise TokenError(f"character {ch!r} (U+{ord(ch):04X}) is not in the token table "
                             f"(language {self.language!r}, {len(self.characters)} characters)")
        raise TokenError(f"expected one character, got {ch!r}")

    def encode_word(self, word: str) -> list[int]:
        """Token ids of one normalised word (no silence)."""
        if not isinstance(word, str):
            raise TokenError(f"a word must be a string, not {type(word).__name__}")
        if not word:
            raise TokenError("empty word")
        return [self.char_to_id(c) for c in word]

    def encode_words(self, words: Iterable[str]) -> list[list[int]]:
        return [self.encode_word(w) for w in words]

    def decode_ids(self, ids: Sequence[int]) -> str:
        """Characters of ``ids``, silence as a space."""
        return "".join(self.symbol(i) if i else " " for i in ids)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (stored in checkpoints and model sidecars)."""
        return {"format": TABLE_FORMAT, "language": self.language, "silence": self.silence,
                "characters": list(self.characters)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TokenTable":
        """Inverse of :meth:`to_dict`; :class:`TokenError` names what is wrong."""
        if not isinstance(d, Mapping):
            raise TokenError(f"a token table is a mapping, got {type(d).__name__}")
        if d.get("format") != TABLE_FORMAT:
            raise TokenError(f"token table format {d.get('format')!r}, expected {TABLE_FORMAT!r}")
        missing = [k for k in ("language", "characters") if k not in d]
        if missing:
            raise TokenError(f"token table lacks {', '.join(missing)}")
        chars = d["characters"]
        if isinstance(chars, str) or not isinstance(chars, (list, tuple)):
            raise TokenError(f"token table characters must be a list, got {type(chars).__name__}")
        return cls(tuple(chars), language=d["language"], silence=d.get("silence", SILENCE))


#: The shipped model's table: silence, apostrophe, a-z (28 tokens).
ENGLISH = TokenTable(("'",) + tuple(chr(c) for c in range(ord("a"), ord("z") + 1)), language="en")

# ---------------------------------------------------------------------- English-only compatibility names
#: Characters with a token, in ascending code-point order (apostrophe first).
CHARACTERS: tuple[str, ...] = ENGLISH.characters
#: Everything the English model scores, id -> symbol.
TOKENS: tuple[str, ...] = ENGLISH.tokens
NUM_TOKENS = ENGLISH.num_tokens
CODEPOINTS: tuple[int, ...] = ENGLISH.codepoints
char_to_id = ENGLISH.char_to_id
encode_word = ENGLISH.encode_word
encode_words = ENGLISH.encode_words
decode_ids = ENGLISH.decode_ids

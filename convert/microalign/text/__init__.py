"""Transcript handling as data: a token table per model, a normaliser per language.

- :class:`TokenTable` (:mod:`.tokens`): the characters a model scores, silence as token 0,
  a language tag; saved in checkpoints and written into the C header (:mod:`.header`).
- :func:`normalize` (:mod:`.normalize`): transcript -> spoken words, by the table's
  language (:mod:`.en` for English; :func:`register_normalizer` adds one).
"""
from .normalize import NormalizedWord, TextError, normalize, normalizer_for, register_normalizer
from .tokens import ENGLISH, NUM_TOKENS, SILENCE_ID, TOKENS, TokenError, TokenTable, encode_word, encode_words

__all__ = ["NormalizedWord", "TextError", "normalize", "normalizer_for", "register_normalizer", "ENGLISH",
           "NUM_TOKENS", "SILENCE_ID", "TOKENS", "TokenError", "TokenTable", "encode_word", "encode_words"]

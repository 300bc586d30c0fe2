"""Transcript handling: normalisation to spoken words and the character token table."""
from .normalize import NormalizedWord, TextError, normalize
from .tokens import NUM_TOKENS, SILENCE_ID, TOKENS, TokenError, encode_word, encode_words

__all__ = ["NormalizedWord", "TextError", "normalize", "NUM_TOKENS", "SILENCE_ID", "TOKENS",
           "TokenError", "encode_word", "encode_words"]

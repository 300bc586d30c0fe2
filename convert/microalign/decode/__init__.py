"""Forced-alignment decoders: float (:mod:`.viterbi`) and int8 (:mod:`.viterbi_int`, reference of ``ma_decode_s8``)."""
from ._core import DECODE_BUDGET_BYTES, DEFAULT_BAND, MIN_CHAR_FRAMES, DecodeError
from .viterbi import Alignment, viterbi_align
from .viterbi_int import IntAlignment, band_for_budget, scratch_bytes, viterbi_align_int

__all__ = ["Alignment", "DecodeError", "DECODE_BUDGET_BYTES", "DEFAULT_BAND", "MIN_CHAR_FRAMES", "IntAlignment",
           "band_for_budget", "scratch_bytes",
           "viterbi_align", "viterbi_align_int"]

"""Forced-alignment decoders: float (:mod:`.viterbi`) and int8 (:mod:`.viterbi_int`, reference of ``ma_decode_s8``)."""
from ._core import DEFAULT_BAND, DecodeError
from .viterbi import Alignment, viterbi_align
from .viterbi_int import IntAlignment, band_for_budget, scratch_bytes, viterbi_align_int

__all__ = ["Alignment", "DecodeError", "DEFAULT_BAND", "IntAlignment", "band_for_budget", "scratch_bytes",
           "viterbi_align", "viterbi_align_int"]

"""Forced-alignment decoders: float (:mod:`.viterbi`) and int8 (:mod:`.viterbi_int`, reference of ``ma_decode_s8``).

Both run the same algorithm (:mod:`._core`): a band that follows the best partial path, checkpointed
back-pointers (bounded memory at any length), widened when the path touches the band's edge. On the
host the int8 decoder runs the C kernel itself (:mod:`.native`) when a C compiler is available.
"""
from ._core import (DECODE_SRAM_BYTES, DEFAULT_BAND, DEFAULT_INTERVAL, DEFAULT_MAX_BAND,
                    MAX_FRAMES, MIN_CHAR_FRAMES, DecodeError, checkpoint_bytes, compact, path_bytes, scratch_bytes)
from .viterbi import Alignment, viterbi_align
from .viterbi_int import IntAlignment, viterbi_align_int

__all__ = ["Alignment", "DecodeError", "DECODE_SRAM_BYTES", "DEFAULT_BAND",
           "DEFAULT_INTERVAL", "DEFAULT_MAX_BAND", "MAX_FRAMES", "MIN_CHAR_FRAMES", "IntAlignment",
           "checkpoint_bytes", "compact", "path_bytes", "scratch_bytes", "viterbi_align", "viterbi_align_int"]

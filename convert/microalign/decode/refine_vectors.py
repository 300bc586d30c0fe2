"""Test vectors for ``ma_refine_s8``: cases and the numpy reference's outputs, as a C header.

Each case is a decoded path (synthetic int8 scores decoded by :func:`..viterbi_int.viterbi_align_int`,
or constructed spans) with the outputs of :func:`.refine.refine_int` (``engine="numpy"``). Random
cases vary the transcript, the duration floor k (1 to 5: past the graph's copy cap too), pauses and
sharpness; constructed ones cover a pause longer than twice the reach (one problem per side), speech
from the first to the last frame (the recording's edges), words of one character, scores above the
given frame maximum, one word alone, and the errors the kernel must refuse with its outputs untouched.

    python -m microalign.decode.refine_vectors --out DIR [--seed N] [--small]

``tflm_app/tests/test_ma_refine_s8.c`` runs them (tests/test_refine_c.py: host with sanitizers,
Cortex-M7 under QEMU).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cheader import VectorsHeader, c_array
from . import _core
from .refine import REFINE_PAUSES, REFINE_REACH, refine_int
from .synthetic import random_transcript, synthesize
from .viterbi_int import viterbi_align_int

STATUS = {"ok": 0, "argument": _core.STATUS_ERR_ARGUMENT, "token": _core.STATUS_ERR_TOKEN,
          "scratch": _core.STATUS_ERR_SCRATCH}


@dataclass
class Case:
    name: str
    scores: np.ndarray        # [T, C] int8, compacted columns
    frame_max: np.ndarray     # [T] int8
    words: list[list[int]]    # column ids per word
    spans: np.ndarray         # [n_chars, 2] merged character spans
    k: int
    status: int = 0
    scratch: int = -1         # scratch bytes to pass (-1: ma_refine_s8_get_scratch_size)
    start_ms: np.ndarray | None = None
    end_ms: np.ndarray | None = None


#: the cases' refinement treats pauses as REFINE_PAUSES, or (``--pauses``, :func:`main`) refines them too
PAUSES = {"value": None}


def decoded_case(name: str, rng: np.random.Generator, words_tok, k: int, **synth) -> Case:
    syn = synthesize(rng, words_tok, **synth)
    cols, local, fm = _core.compact(syn.scores, syn.words)
    fm = np.maximum(fm, syn.scores.max(axis=1)).astype(np.int8)
    r = viterbi_align_int(cols, local, min_char_frames=k, frame_max=fm, engine="numpy")
    return finish(Case(name, cols.astype(np.int8), fm, local, r.token_spans.astype(np.int64), k))


def finish(c: Case) -> Case:
    if c.status == 0:
        ws = np.array([[c.spans[a, 0], c.spans[b - 1, 1]] for a, b in _word_ranges(c.words)])
        pauses = REFINE_PAUSES if PAUSES["value"] is None else PAUSES["value"]
        r = refine_int(c.scores, c.words, c.spans, ws, c.k, c.frame_max, engine="numpy", pauses=pauses)
        c.start_ms, c.end_ms = r.start_ms, r.end_ms
    return c


def _word_ranges(words):
    first = np.cumsum([0] + [len(w) for w in words])
    return list(zip(first[:-1], first[1:]))


def random_cases(rng: np.random.Generator, n: int) -> list[Case]:
    from ..text.tokens import encode_words

    out = []
    for i in range(n):
        words = encode_words(random_transcript(rng, int(rng.integers(1, 25))))
        k = int(rng.choice([1, 2, 3, 3, 4, 5]))
        out.append(decoded_case(f"random_{i}", rng, words, k, char_frames=(k, k + 10),
                                sharpness=float(rng.choice([1.5, 3.0, 6.0])), noise=float(rng.choice([1.0, 2.5])),
                                pause_prob=0.4, pause_frames=(2, 90), lead_frames=(int(rng.integers(0, 2)), 70)))
    return out


def constructed_cases(rng: np.random.Generator) -> list[Case]:
    from ..text.tokens import encode_words

    H = REFINE_REACH
    out = [
        decoded_case("long_pauses_split", rng, encode_words(["one", "two", "three"]), 3, pause_prob=1.0,
                     pause_frames=(2 * H + 5, 3 * H), lead_frames=(2 * H, 3 * H)),
        decoded_case("speech_edge_to_edge", rng, encode_words(["abc", "de", "fgh"]), 3, pause_prob=0.0,
                     lead_frames=(0, 1)),
        decoded_case("one_char_words", rng, encode_words(["a", "i", "o", "a"]), 3, pause_prob=0.5),
        decoded_case("one_word", rng, encode_words(["word"]), 2),
        decoded_case("k5_capped_copies", rng, encode_words(["slow", "speech"]), 5, char_frames=(5, 9)),
        decoded_case("long_characters", rng, encode_words(["ab", "cd"]), 1, char_frames=(40, 90)),
    ]
    c = decoded_case("scores_above_frame_max", rng, encode_words(["odd", "max"]), 3)
    c.frame_max = (c.frame_max.astype(np.int64) - 20).clip(-128, 127).astype(np.int8)
    out.append(finish(c))
    base = out[2]
    bad_tok = Case("err_token_id", base.scores, base.frame_max, [[w[0] + 99] + w[1:] for w in base.words],
                   base.spans, 3, STATUS["token"])
    overlap = base.spans.copy()
    overlap[1, 0] = overlap[0, 1] - 1
    bad_span = Case("err_spans_overlap", base.scores, base.frame_max, base.words, overlap, 3, STATUS["token"])
    short = Case("err_span_shorter_than_k", base.scores, base.frame_max, base.words, base.spans, 99, STATUS["token"])
    k0 = Case("err_k0", base.scores, base.frame_max, base.words, base.spans, 0, STATUS["argument"])
    small = Case("err_scratch_small", base.scores, base.frame_max, base.words, base.spans, 3, STATUS["scratch"],
                 scratch=64)
    return out + [bad_tok, bad_span, short, k0, small]


def default_cases(seed: int = 0, small: bool = False) -> list[Case]:
    rng = np.random.default_rng(seed)
    return constructed_cases(rng) + random_cases(rng, 12 if small else 60)


def body(cases: list[Case], seed: int) -> str:
    parts = ["typedef struct {\n  const char *name;\n  int32_t n_frames, n_cols, n_tokens, n_words, k, status, scratch;\n"
             "  const int8_t *scores, *frame_max;\n  const int32_t *ids, *tok_start, *tok_end, *lens, *start_ms, "
             "*end_ms;\n} ma_refine_case;\n\n"]
    rows = []
    for i, c in enumerate(cases):
        p = f"c{i}_"
        ids = [t for w in c.words for t in w]
        parts += [c_array("int8_t", p + "scores", c.scores), c_array("int8_t", p + "fmax", c.frame_max),
                  c_array("int32_t", p + "ids", ids), c_array("int32_t", p + "ts", c.spans[:, 0]),
                  c_array("int32_t", p + "te", c.spans[:, 1]), c_array("int32_t", p + "lens", [len(w) for w in c.words]),
                  c_array("int32_t", p + "start", c.start_ms if c.start_ms is not None else [0]),
                  c_array("int32_t", p + "end", c.end_ms if c.end_ms is not None else [0])]
        rows.append(f'  {{"{c.name}", {c.scores.shape[0]}, {c.scores.shape[1]}, {len(ids)}, {len(c.words)}, {c.k}, '
                    f'{c.status}, {c.scratch}, {p}scores, {p}fmax, {p}ids, {p}ts, {p}te, {p}lens, {p}start, {p}end}}')
    parts.append(f"#define MA_REFINE_N_CASES {len(cases)}\nstatic const ma_refine_case MA_REFINE_CASES[] = {{\n"
                 + ",\n".join(rows) + "\n};\n")
    return "\n".join(parts)


VECTORS = VectorsHeader(
    generator="microalign.decode.refine_vectors", header_name="ma_refine_s8_vectors.h", doc=__doc__,
    notes=" * Expected outputs: microalign.decode.refine.refine_int (engine=\"numpy\").",
    default_cases=default_cases, body=body)



def main(argv: list[str] | None = None) -> int:
    """``python -m microalign.decode.refine_vectors --out DIR [--seed N] [--small] [--pauses]``: ``--pauses``
    makes the expected outputs those of a kernel built with ``-DMA_REFINE_PAUSES=1``."""
    argv = list(argv if argv is not None else __import__("sys").argv[1:])
    PAUSES["value"] = True if "--pauses" in argv else None
    try:
        return VECTORS.main([x for x in argv if x != "--pauses"])
    finally:
        PAUSES["value"] = None

if __name__ == "__main__":
    raise SystemExit(main())

"""Test vectors for the C kernel ``ma_decode_s8``: cases plus the outputs of :func:`viterbi_align_int`.

    python -m microalign.decode.c_vectors --out build/ma_decode_s8_vectors.h --random 200 --seed 1

writes a C header (stamped with this generator's name, seed and case count)
that ``tflm_app/tests/test_ma_decode_s8.c`` includes; the test firmware
runs every case and compares every output with the expected one exactly.

Header layout (all arrays ``static const``; case ``i`` reads its slices at the offsets in
``ma_decode_cases[i]``):

* ``ma_decode_scores``  int8, the cases' ``[T, V]`` score matrices, concatenated
* ``ma_decode_tokens``  int32, token ids of all words of all cases
* ``ma_decode_lengths`` int32, word lengths
* ``ma_decode_expect_tokens`` int32, per character ``start, end``
* ``ma_decode_expect_words``  int32, per word ``start, end, score_sum, frames``
* ``ma_decode_frame_max`` int8, per-frame maxima of the cases that pass ``frame_max`` (else NULL)
* ``ma_decode_cases``   one ``ma_decode_case`` per case: sizes, params, the scratch and checkpoint
  sizes to pass (``-1`` = exactly ``ma_decode_s8_get_scratch_size`` / ``_get_checkpoint_size``),
  the expected sizes (:func:`scratch_bytes`, :func:`checkpoint_bytes`, ``-1`` for invalid sizes),
  the expected status, path score, band and edge flag.

``--long-frames N`` adds one realistic utterance of N frames (e.g. 60,000 = 10 min), decoded with
the default parameters: on QEMU its checkpoints live in PSRAM (see the test firmware).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..cheader import c_array
from ..text.tokens import NUM_TOKENS, encode_words
from . import _core
from ._core import MIN_CHAR_FRAMES, checkpoint_bytes, compact, expand_min_frames, path_bytes, scratch_bytes
from .synthetic import random_transcript, synthesize
from .viterbi_int import viterbi_align_int

GENERATOR = "microalign.decode.c_vectors"


@dataclass
class Case:
    name: str
    scores: np.ndarray                 # int8 [T, V]
    tokens: list[int]                  # all characters
    lengths: list[int]                 # per word
    band: int = 0
    max_band: int = 0
    interval: int = 0
    beam: int = _core.DEFAULT_BEAM
    penalty: int = 0
    frame_max: np.ndarray | None = None  # int8 [T] or None (NULL)
    scratch_size: int = -1             # -1: ma_decode_s8_get_scratch_size(...)
    checkpoint_size: int = -1          # -1: ma_decode_s8_get_checkpoint_size(...)
    expect_scratch: int = -1           # scratch_bytes(...) (-1 when the sizes are invalid)
    expect_checkpoint: int = -1        # checkpoint_bytes(...) (-1 when the sizes are invalid)
    expect_path: int = -1              # path_bytes(...) (-1 when the sizes are invalid)
    status: int = 0
    path_score: int = 0
    expect_band: int = 0
    expect_edge_free: int = 1
    expect_tokens: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int32))
    expect_words: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))


def make_case(name: str, scores: np.ndarray, words: list[list[int]], *, band: int = 0, max_band: int = 0,
              interval: int = 0, beam: int = _core.DEFAULT_BEAM, penalty: int = 0, frame_max=None,
              scratch_delta: int = 0, checkpoint_delta: int = 0) -> Case:
    """Run the numpy reference on one case (``*_delta < 0``: pass that much less scratch / checkpoint memory)."""
    case = Case(name=name, scores=np.asarray(scores, dtype=np.int8), tokens=[int(c) for w in words for c in w],
                lengths=[len(w) for w in words], band=band, max_band=max_band, interval=interval, beam=beam,
                penalty=penalty, frame_max=None if frame_max is None else np.asarray(frame_max, np.int8))
    C, n = len(case.tokens), len(words)
    kw = dict(band=band, max_band=max_band, interval=interval)
    try:
        case.expect_scratch = scratch_bytes(C, n, **kw)
    except _core.DecodeError:
        pass
    try:
        case.expect_checkpoint = checkpoint_bytes(case.scores.shape[0], C, n, **kw)
        case.expect_path = path_bytes(case.scores.shape[0], C, n, **kw)
    except (_core.DecodeError, IndexError):
        pass
    try:
        ali = viterbi_align_int(case.scores, words, silence_penalty=penalty, band=band, max_band=max_band,
                                checkpoint_interval=interval, beam=beam, frame_max=case.frame_max, engine="numpy")
    except _core.DecodeError as e:
        case.status = e.status
        return case
    if scratch_delta or checkpoint_delta:
        case.scratch_size = case.expect_scratch + scratch_delta
        case.checkpoint_size = case.expect_checkpoint + checkpoint_delta
        case.status = _core.STATUS_ERR_SCRATCH
        return case
    case.path_score = ali.score
    case.expect_band = ali.band
    case.expect_edge_free = int(ali.edge_free)
    case.expect_tokens = ali.token_spans
    case.expect_words = np.stack([ali.word_spans[:, 0], ali.word_spans[:, 1], ali.word_score_sum,
                                  ali.word_frames], axis=1)
    return case


def constructed_cases(rng: np.random.Generator) -> list[Case]:
    """Edge cases and realistic utterances."""
    V = NUM_TOKENS
    cs: list[Case] = []

    def rnd(T, V=V):
        return rng.integers(-128, 128, size=(T, V)).astype(np.int8)

    def real(words, T=None, **kw):
        return synthesize(rng, words, T, **kw).scores

    w1 = encode_words(["a"])
    cs.append(make_case("one_token_one_frame", rnd(1), w1))
    cs.append(make_case("one_token_five_frames", rnd(5), w1))
    w = encode_words(["hello", "world"])
    cs.append(make_case("tokens_equal_frames", rnd(10), w))
    cs.append(make_case("tokens_equal_frames_real", real(w, 10), w))
    cs.append(make_case("tokens_plus_one_frame", rnd(11), w))
    w = encode_words(["ll", "balloon", "committee", "llama"])
    cs.append(make_case("repeated_chars", real(w), w))
    cs.append(make_case("repeated_chars_tight", real(w, 25), w))
    w = encode_words(["she", "had", "your", "dark", "suit"])
    # what the aligner feeds the kernel: every token repeated MIN_CHAR_FRAMES times, the budget band
    wk = expand_min_frames(w, MIN_CHAR_FRAMES)
    sc = real(w, 160)
    cs.append(make_case("min_char_frames", sc, wk))
    cs.append(make_case("min_char_frames_band_16", sc, wk, band=16, max_band=16))
    # what the aligner passes: the transcript's columns of a 28-token model and the full-vocabulary maxima
    cols, local, fmax = compact(sc, wk)
    cs.append(make_case("compacted_columns_frame_max", cols, local, frame_max=fmax))
    cs.append(make_case("frame_max_above_row_max", sc, wk, frame_max=np.full(160, 127, np.int8)))
    w = encode_words(["the", "the", "the"])
    cs.append(make_case("repeated_words", real(w), w))
    w = encode_words(["isn't", "it"])
    cs.append(make_case("lead_trail_silence", real(w, lead_frames=(60, 120)), w))
    cs.append(make_case("no_silence", real(w, lead_frames=(0, 1), pause_prob=0.0), w))
    cs.append(make_case("uniform_scores_ties", np.zeros((40, V), np.int8), w))
    cs.append(make_case("saturated_scores", np.where(rng.random((60, V)) < 0.5, -128, 127).astype(np.int8), w))
    cs.append(make_case("all_minus_128", np.full((30, V), -128, np.int8), w))
    for pen in (-1024, -40, 40, 1024):
        cs.append(make_case(f"penalty_{pen}", real(w, pause_prob=1.0), w, penalty=pen))
    cs.append(make_case("vocab_2", rnd(20, 2), [[1, 1], [1], [1, 1, 1]]))
    cs.append(make_case("vocab_128", rnd(50, 128), [[127, 1, 64], [100]]))
    words = encode_words(random_transcript(rng, 40))
    sc = real(words, sharpness=2.5, noise=2.2)
    for band in (3, 4, 5, 16, 17, 33, 64, 65536):
        cs.append(make_case(f"band_{band}", sc, words, band=band, max_band=band))
    for band, max_band in ((3, 12), (4, 64), (5, 7), (16, 3), (8, 1000)):   # widening on an edge touch
        cs.append(make_case(f"widen_{band}_to_{max_band}", sc, words, band=band, max_band=max_band))
    for interval in (1, 2, 3, 16, 127):
        cs.append(make_case(f"interval_{interval}", sc, words, band=16, max_band=64, interval=interval))
    cs.append(make_case("interval_beyond_T", sc, words, band=16, max_band=16, interval=2000))  # one segment
    for beam in (0, 1, 1 << 20):
        cs.append(make_case(f"beam_{beam}", sc, words, band=24, max_band=24, beam=beam))
    words = encode_words(random_transcript(rng, 120))
    cs.append(make_case("long_utterance_T1500", real(words, 1500), words))
    cs.append(make_case("long_utterance_noisy", real(words, 1500, sharpness=2.0, noise=2.5), words))
    wk = expand_min_frames(words, MIN_CHAR_FRAMES)
    cs.append(make_case("long_utterance_min_char_frames", real(words, 4000, sharpness=2.5, noise=2.5), wk))
    cs.append(make_case("noisy_narrow_band_widens", real(words, 3000, sharpness=1.2, noise=3.0,
                                                         pause_prob=0.5, pause_frames=(5, 150)), wk,
                        band=8, max_band=64, interval=50))
    # impossible or invalid inputs -> error status, outputs untouched
    cs.append(make_case("err_empty_transcript", rnd(10), []))
    cs.append(make_case("err_empty_word", rnd(10), [[1], []]))
    cs.append(make_case("err_token_zero", rnd(10), [[3, 0, 4]]))
    cs.append(make_case("err_token_eq_vocab", rnd(10), [[3], [V]]))
    cs.append(make_case("err_token_negative", rnd(10), [[-5]]))
    cs.append(make_case("err_more_tokens_than_frames", rnd(9), encode_words(["hello", "world"])))
    cs.append(make_case("err_no_frames", np.zeros((0, V), np.int8), w1))
    cs.append(make_case("err_band_1", rnd(10), w1, band=1))
    cs.append(make_case("err_band_negative", rnd(10), w1, band=-3))
    cs.append(make_case("err_band_too_wide", rnd(10), w1, band=65537))
    cs.append(make_case("err_max_band_2", rnd(10), w1, max_band=2))
    cs.append(make_case("err_interval_negative", rnd(10), w1, interval=-1))
    cs.append(make_case("err_interval_too_long", rnd(10), w1, interval=65537))
    cs.append(make_case("err_penalty", rnd(10), w1, penalty=1025))
    cs.append(make_case("err_beam", rnd(10), w1, beam=-1))
    cs.append(make_case("err_vocab_1", rnd(10, 1), [[0]]))
    cs.append(make_case("vocab_300", rnd(30, 300), [[299, 1, 150], [200]]))
    cs.append(make_case("err_vocab_32769", rnd(1, 32769), w1))
    cs.append(make_case("err_scratch_small", rnd(30), encode_words(["ab", "c"]), scratch_delta=-4))
    cs.append(make_case("err_checkpoints_small", rnd(30), encode_words(["ab", "c"]), checkpoint_delta=-4))
    return cs


def random_cases(rng: np.random.Generator, n: int, max_frames: int = 300) -> list[Case]:
    """Random vocabularies, transcripts, scores (uniform or peaked), bands, beams and penalties."""
    cs = []
    for i in range(n):
        V = int(rng.integers(2, 41))
        n_words = int(rng.integers(1, 8))
        words = [list(rng.integers(1, V, size=int(rng.integers(1, 6)))) for _ in range(n_words)]
        C = sum(map(len, words))
        T = int(rng.integers(C, max(C + 1, min(max_frames, C * int(rng.integers(1, 12))) + 1)))
        if rng.random() < 0.5:
            scores = rng.integers(-128, 128, size=(T, V)).astype(np.int8)
        else:  # peaked rows around a random monotone path
            scores = rng.integers(-128, -40, size=(T, V)).astype(np.int8)
            idx = np.sort(rng.integers(0, C, size=T))
            flat = np.asarray([c for w in words for c in w])
            scores[np.arange(T), flat[idx]] = rng.integers(60, 128, size=T)
            scores[rng.random(T) < 0.2, 0] = 120
        band = int(rng.choice([0, 3, 4, 5, 7, 8, 16, 31, 1000]))
        max_band = int(rng.choice([0, 3, 6, 16, 40, band or 3]))
        interval = int(rng.choice([0, 1, 2, 5, 16, 64]))
        beam = int(rng.choice([0, 16, 64, 300]))
        fmax = (None if rng.random() < 0.5
                else np.maximum(scores.max(axis=1), rng.integers(-128, 128, T)).astype(np.int8))
        penalty = int(rng.choice([0, 0, -30, 25, 500]))
        cs.append(make_case(f"random_{i}", scores, words, band=band, max_band=max_band, interval=interval, beam=beam,
                            penalty=penalty, frame_max=fmax))
    return cs


def write_header(cases: list[Case], path: Path, stamp: str) -> None:
    scores, fmaxes, tokens, lengths, etok, ewrd, rows = [], [], [], [], [], [], []
    so = fo = to = wo = 0
    for c in cases:
        T = c.scores.shape[0]
        V = c.scores.shape[1] if c.scores.ndim == 2 else 0
        f_off = -1 if c.frame_max is None else fo
        rows.append(f'  {{"{c.name}", {T}, {V}, {len(c.tokens)}, {len(c.lengths)}, {c.band}, {c.max_band}, '
                    f'{c.interval}, {c.beam}, {c.penalty}, {c.scratch_size}, {c.checkpoint_size}, {c.expect_scratch}, '
                    f'{c.expect_checkpoint}, {c.expect_path}, {c.status}, {c.path_score}, {c.expect_band}, {c.expect_edge_free}, '
                    f'{so}, {f_off}, {to}, {wo}}},')
        scores.append(c.scores.ravel())
        if c.frame_max is not None:
            fmaxes.append(c.frame_max.ravel())
            fo += c.frame_max.size
        tokens += c.tokens
        lengths += c.lengths
        et = np.zeros((len(c.tokens), 2), np.int32)
        ew = np.zeros((len(c.lengths), 4), np.int32)
        if c.status == 0:
            et[:] = c.expect_tokens
            ew[:] = c.expect_words
        etok.append(et.ravel())
        ewrd.append(ew.ravel())
        so += c.scores.size
        to += len(c.tokens)
        wo += len(c.lengths)
    text = [f"/* Generated by {GENERATOR} ({stamp}). Do not edit: regenerate.\n"
            f" * {len(cases)} cases for ma_decode_s8; expected outputs from viterbi_align_int. */\n",
            "#ifndef MA_DECODE_S8_VECTORS_H\n#define MA_DECODE_S8_VECTORS_H\n#include <stdint.h>\n\n",
            "typedef struct {\n  const char *name;\n  int32_t n_frames, n_vocab, n_tokens, n_words;\n"
            "  int32_t band, max_band, interval, beam, silence_penalty, scratch_size, checkpoint_size;\n"
            "  int32_t expect_scratch, expect_checkpoint, expect_path, status, path_score, expect_band, expect_edge_free;\n"
            "  uint32_t scores_offset;\n  int32_t frame_max_offset; /* -1: NULL */\n"
            "  uint32_t tokens_offset, words_offset;\n} ma_decode_case;\n\n",
            c_array("int8_t", "ma_decode_scores", np.concatenate(scores) if scores else np.zeros(0)),
            c_array("int8_t", "ma_decode_frame_max", np.concatenate(fmaxes) if fmaxes else np.zeros(0)),
            c_array("int32_t", "ma_decode_tokens", np.asarray(tokens)),
            c_array("int32_t", "ma_decode_lengths", np.asarray(lengths)),
            c_array("int32_t", "ma_decode_expect_tokens", np.concatenate(etok)),
            c_array("int32_t", "ma_decode_expect_words", np.concatenate(ewrd)),
            f"#define MA_DECODE_N_CASES {len(cases)}\n",
            "static const ma_decode_case ma_decode_cases[MA_DECODE_N_CASES] = {\n" + "\n".join(rows) + "\n};\n",
            "\n#endif\n"]
    path.write_text("".join(text))


def long_case(rng: np.random.Generator, n_frames: int) -> Case:
    """One realistic utterance of ``n_frames`` frames as the aligner passes it (compacted columns,
    frame maxima, characters repeated MIN_CHAR_FRAMES times), default parameters."""
    words: list[list[int]] = []
    while sum(map(len, words)) < n_frames // 12:
        words += encode_words(random_transcript(rng, 50))
    syn = synthesize(rng, words, n_frames, sharpness=3.0, noise=2.0)
    cols, local, fmax = compact(syn.scores, expand_min_frames(words, MIN_CHAR_FRAMES))
    return make_case(f"long_{n_frames}_frames", cols, local, frame_max=fmax)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="header to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--random", type=int, default=100, help="number of random cases")
    ap.add_argument("--max-frames", type=int, default=300, help="longest random case")
    ap.add_argument("--no-constructed", action="store_true", help="random cases only")
    ap.add_argument("--long-frames", type=int, default=0, help="add one realistic utterance of this many frames")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    cases = ([] if a.no_constructed else constructed_cases(rng)) + random_cases(rng, a.random, a.max_frames)
    if a.long_frames:
        cases.append(long_case(rng, a.long_frames))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    write_header(cases, a.out, f"seed {a.seed}, {a.random} random cases, max {a.max_frames} frames")
    print(f"{a.out}: {len(cases)} cases")


if __name__ == "__main__":
    main()

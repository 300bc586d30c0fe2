"""Long recordings made of LJ Speech clips, aligned with the shipped models: every clip's first word
where it belongs, no warnings, and (where it fits) the same words as the unbounded exact Viterbi.

20 s and 60 s run in CI; 5, 20 and 60 min are marked slow (``eval/long_audio.py`` prints the table)."""
from functools import lru_cache

import numpy as np
import pytest

from conftest import shared_path
from microalign.align import align_pcm, decode_scores
from microalign.audio import load_audio
from microalign.decode import MIN_CHAR_FRAMES, viterbi_align
from microalign.frontend import features_from_pcm
from microalign.quality.concat import concatenate, first_word_errors
from microalign.runtime import backend_spec, frame_scores, load_backend
from microalign.text import normalize
from microalign.text.tokens import ENGLISH

TOLERANCE = 0.1


@lru_cache(maxsize=None)
def clips(n: int):
    from microalign.teachers.corpora import read_ljspeech

    root = shared_path("data", "ljspeech-subset")
    return [(u.id, load_audio(u.audio), u.text) for u in read_ljspeech(root)[:n]]


@lru_cache(maxsize=None)
def scorer(backend: str):
    reason = backend_spec(backend).unavailable()
    if reason:
        pytest.skip(f"backend {backend} unavailable: {reason}")
    return load_backend(backend)


@lru_cache(maxsize=None)
def alone(backend: str, n: int) -> dict:
    """Per clip aligned alone: its first word's start and the warning codes it draws."""
    out = {}
    for cid, pcm, text in clips(n):
        al = align_pcm(pcm, text, scorer(backend))
        out[cid] = (al.words[0].start, {w.code for w in al.warnings})
    return out


def check_recording(backend: str, seconds: float, n_clips: int, exact: bool):
    sc = scorer(backend)
    cat = concatenate(clips(n_clips), seconds)
    assert cat.duration >= seconds
    al = align_pcm(cat.pcm, cat.text, sc)
    if exact:
        tokens = [ENGLISH.encode_word(w.text) for w in normalize(cat.text)]
        scores = frame_scores(features_from_pcm(cat.pcm), sc)
        k = max(1, min(MIN_CHAR_FRAMES, len(scores.values) // sum(map(len, tokens))))
        got = decode_scores(scores, tokens)
        full = viterbi_align(scores.log_probs().astype(np.float64), tokens, band=None, min_char_frames=k)
        assert np.array_equal(got.word_spans, full.word_spans), "differs from the unbounded exact Viterbi"
        assert np.array_equal(got.token_spans, full.token_spans)
    ref = alone(backend, n_clips)
    err = first_word_errors(cat, np.array([w.start for w in al.words]), {c: v[0] for c, v in ref.items()})
    n_bad = int((err > TOLERANCE + 1e-9).sum())
    # >= 95 % of clips within 100 ms of where the clip alone puts its first word, and no lost path (the
    # old diagonal band's errors were seconds to minutes). The 60 s recording has only 10 clips, so one
    # may miss. The misses are the model's or the corpus's, on both backends and in the unbounded exact
    # Viterbi too: LJ001-0007's "the" (0.34 s early, taken for the end of "typography") and, from 5 min
    # on, LJ001-0034's "they" (0.60 s early: LJ001-0033 ends with "MSS.", spoken "manuscripts", which
    # three letters cannot cover when the clip is not cut off there).
    assert n_bad <= max(1, int(0.05 * len(err))) and err.max() < 1.0, (
        f"{backend} {seconds} s: {n_bad} of {len(err)} clips beyond 100 ms, worst {err.max():.2f} s")
    # no warning that length causes: a word-level warning only where the clip aligned alone draws the
    # same code (from 20 min on, LJ001-0055's "Jacques le Rouge": "rouge" stretched to 1 s alone too)
    clip_of = np.searchsorted(cat.first_word, [w.word if w.word is not None else -1 for w in al.warnings],
                              side="right") - 1
    caused = [w.line() for w, k in zip(al.warnings, clip_of)
              if w.word is None or w.code not in ref[cat.clip_ids[k]][1]]
    assert caused == [], caused


@pytest.mark.parametrize("backend", ["torch", "tflm"])
@pytest.mark.parametrize("seconds", [20, 60])
def test_long_recording(backend, seconds):
    check_recording(backend, seconds, n_clips=12, exact=True)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "tflm"])
@pytest.mark.parametrize("seconds", [300, 1200, 3600])
def test_very_long_recording(backend, seconds):
    check_recording(backend, seconds, n_clips=385, exact=False)

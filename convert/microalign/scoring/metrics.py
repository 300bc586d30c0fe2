"""Word-boundary accuracy of an alignment against reference timings.

Words are matched by a sequence alignment of the word strings (difflib's
matching blocks over the normalised words), never by index, so an insertion
or deletion on either side does not shift every later word. For each
matched word both its start and its end are boundaries; references may
leave pauses between words or overlap slightly, and nothing here assumes
they tile the utterance.

Reported: mean and median absolute boundary error (ms); the share of
boundaries within 10/20/25/50 ms; the mean absolute error of word starts
and of word ends (ms); matched/reference/hypothesis word counts. (The "AAS"
of some papers, the mean over words of (|Δstart| + |Δend|) / 2, is the
mean boundary error itself, since every matched word has both boundaries: it
is not reported twice.)
"""
from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..corpus import Segment

TOLERANCES_MS = (10, 20, 25, 50)


def match_words(ref: Sequence[Segment], hyp: Sequence[Segment]) -> list[tuple[int, int]]:
    """Index pairs (ref, hyp) of words matched by aligning the two word strings."""
    a = [w.label.lower() for w in ref]
    b = [w.label.lower() for w in hyp]
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [(blk.a + k, blk.b + k) for blk in sm.get_matching_blocks() for k in range(blk.size)]


@dataclass
class UtteranceErrors:
    id: str
    start_err: np.ndarray   # signed, seconds (hyp - ref), per matched word
    end_err: np.ndarray
    n_ref: int
    n_hyp: int


def utterance_errors(uid: str, ref: Sequence[Segment], hyp: Sequence[Segment]) -> UtteranceErrors:
    pairs = match_words(ref, hyp)
    s = np.array([hyp[j].start - ref[i].start for i, j in pairs])
    e = np.array([hyp[j].end - ref[i].end for i, j in pairs])
    return UtteranceErrors(uid, s, e, len(ref), len(hyp))


@dataclass
class Scores:
    n_utterances: int
    n_ref_words: int
    n_hyp_words: int
    n_matched: int
    mean_ms: float
    median_ms: float
    within_ms: dict = field(default_factory=dict)   # "10" -> percent
    start_mean_ms: float = float("nan")
    end_mean_ms: float = float("nan")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Scores":
        """From :meth:`to_dict` output (older files' ``aas_ms``, equal to ``mean_ms``, is ignored)."""
        return cls(**{k: v for k, v in d.items() if k != "aas_ms"})

    def row(self, name: str) -> str:
        w = " | ".join(f"{self.within_ms[str(t)]:.1f}" for t in TOLERANCES_MS)
        return (f"| {name} | {self.mean_ms:.1f} | {self.median_ms:.1f} | {w} | {self.start_mean_ms:.1f} | {self.end_mean_ms:.1f} | "
                f"{self.n_matched}/{self.n_ref_words} |")


TABLE_HEADER = ("| aligner | mean ms | median ms | " + " | ".join(f"≤{t} ms %" for t in TOLERANCES_MS)
                + " | start ms | end ms | matched/ref words |\n|---|" + "---|" * (5 + len(TOLERANCES_MS)))


def boundary_errors_ms(errors: Iterable[UtteranceErrors]) -> np.ndarray:
    """All absolute boundary errors (starts and ends) in ms."""
    errs = [np.abs(np.concatenate([u.start_err, u.end_err])) for u in errors]
    return 1000.0 * np.concatenate(errs) if errs else np.zeros(0)


def summarize(errors: list[UtteranceErrors]) -> Scores:
    b = boundary_errors_ms(errors)
    if not len(b):
        raise ValueError("no matched words to score")
    s = 1000.0 * np.abs(np.concatenate([u.start_err for u in errors]))
    e = 1000.0 * np.abs(np.concatenate([u.end_err for u in errors]))
    return Scores(
        n_utterances=len(errors), n_ref_words=sum(u.n_ref for u in errors),
        n_hyp_words=sum(u.n_hyp for u in errors), n_matched=len(s),
        mean_ms=float(b.mean()), median_ms=float(np.median(b)),
        within_ms={str(t): float(100.0 * np.mean(b <= t + 1e-6)) for t in TOLERANCES_MS},
        start_mean_ms=float(s.mean()), end_mean_ms=float(e.mean()))


def score_utterances(refs: dict[str, Sequence[Segment]], hyps: dict[str, Sequence[Segment]]) -> tuple[Scores, list[UtteranceErrors]]:
    """Score hypotheses against references, keyed by utterance id (ids missing from hyps count as unmatched)."""
    errs = [utterance_errors(k, refs[k], hyps.get(k, [])) for k in refs]
    return summarize(errs), errs

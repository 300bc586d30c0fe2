"""Consensus labels: keep only the word timings two independent aligners agree on.

Teacher labels on real speech are noisy, and training on every boundary a
teacher gives teaches its mistakes too. Two aligners that work differently
(pocketsphinx's real-speech phone HMM, the student's character model trained
on exact synthetic timings) rarely make the *same* mistake, so a word both
place within ``tolerance`` of each other (start and end) is trusted and gets
the mean of the two; any other word is marked *uncertain*
(:data:`UNCERTAIN_PREFIX` before its label): training ignores its frames and
the silence around it (see :func:`microalign.train.targets.frame_targets`),
but still learns from its neighbours.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
from tqdm import tqdm

from ..corpus import Segment, Utterance

#: a label starting with this marks a word whose timing is not trusted
UNCERTAIN_PREFIX = "?"


def is_uncertain(label: str) -> bool:
    return label.startswith(UNCERTAIN_PREFIX)


def consensus_words(a: Sequence[Segment], b: Sequence[Segment], tolerance: float) -> list[Segment]:
    """Per word: the mean of ``a`` and ``b`` where both boundaries agree within ``tolerance`` s,
    else ``a``'s timing marked uncertain. ``a`` and ``b`` align the same words in the same order."""
    if len(a) != len(b):
        raise ValueError(f"the two alignments have {len(a)} and {len(b)} words")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 (got {tolerance})")
    out = []
    for x, y in zip(a, b):
        if x.label != y.label:
            raise ValueError(f"word mismatch: {x.label!r} vs {y.label!r}")
        if abs(x.start - y.start) <= tolerance and abs(x.end - y.end) <= tolerance:
            out.append(Segment(x.label, (x.start + y.start) / 2, (x.end + y.end) / 2))
        else:
            out.append(Segment(UNCERTAIN_PREFIX + x.label, x.start, x.end))
    # averaging may make neighbours overlap by a few ms: meet in the middle
    for p, q in zip(out, out[1:]):
        if p.end > q.start:
            mid = (p.end + q.start) / 2
            p.end, q.start = max(mid, p.start), min(mid, q.end)
    return out


@dataclass
class ConsensusStats:
    utterances: int = 0
    words: int = 0
    agreed: int = 0
    failed: int = 0

    @property
    def agreed_fraction(self) -> float:
        return self.agreed / max(self.words, 1)


def consensus_corpus(utterances: Iterable[Utterance], second: Callable[[Utterance], Sequence[Segment]],
                     tolerance: float, stats: ConsensusStats | None = None, progress: bool = True
                     ) -> Iterator[Utterance]:
    """Labelled utterances (a first teacher's words) re-labelled by agreement with ``second``.

    An utterance ``second`` cannot align (``ValueError``) is left out and counted in ``stats.failed``.
    """
    stats = stats if stats is not None else ConsensusStats()
    for u in tqdm(list(utterances), desc="consensus", unit="utt", disable=not progress):
        try:
            other = list(second(u))
            words = consensus_words(u.words, other, tolerance)
        except ValueError:
            stats.failed += 1
            continue
        stats.utterances += 1
        stats.words += len(words)
        stats.agreed += sum(not is_uncertain(w.label) for w in words)
        yield Utterance(u.id, u.audio, u.text, words, [], source=f"{u.source}+consensus" if u.source else "consensus",
                        speaker=u.speaker)


def student_second_opinion(checkpoint=None, min_char_frames: int | None = None
                           ) -> Callable[[Utterance], list[Segment]]:
    """The student (float) as the second aligner, on the first teacher's word list
    (``min_char_frames``: the decoder's duration floor, default the aligner's)."""
    from ..align import TorchScorer, decode_scores, frame_scores
    from ..audio import load_audio
    from ..frontend import FRAME_SECONDS, features_from_pcm
    from ..text.tokens import ENGLISH

    scorer = TorchScorer(checkpoint)
    table = getattr(scorer, "tokens", None) or ENGLISH   # the checkpoint's own token table

    def run(u: Utterance) -> list[Segment]:
        pcm = load_audio(u.audio, quiet=True)
        words = [w.label for w in u.words]
        res = decode_scores(frame_scores(features_from_pcm(pcm), scorer), table.encode_words(words),
                            min_char_frames)
        spans = np.asarray(res.word_spans) * FRAME_SECONDS
        return [Segment(w, float(a), float(b)) for w, (a, b) in zip(words, spans)]

    return run

"""Scoring alignments against reference word timings."""
from .metrics import (TABLE_HEADER, TOLERANCES_MS, Scores, UtteranceErrors, boundary_errors_ms, match_words,
                      score_utterances, summarize, utterance_errors)

__all__ = ["TABLE_HEADER", "TOLERANCES_MS", "Scores", "UtteranceErrors", "boundary_errors_ms", "match_words",
           "score_utterances", "summarize", "utterance_errors"]

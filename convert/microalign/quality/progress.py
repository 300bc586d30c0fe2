"""Progress on stderr for long recordings: a bar over the model windows (tqdm), shown only when
stderr is a terminal and the recording is longer than :data:`PROGRESS_MIN_SECONDS`."""
from __future__ import annotations

import sys

PROGRESS_MIN_SECONDS = 60.0


class ProgressScorer:
    """Wraps a window scorer and advances a progress bar once per window it scores."""

    def __init__(self, scorer, total: int, desc: str = "scoring", stream=None) -> None:
        from tqdm import tqdm

        stream = sys.stderr if stream is None else stream
        self._scorer = scorer
        self.bar = tqdm(total=total, desc=desc, unit="window", file=stream, leave=False,
                        disable=not getattr(stream, "isatty", lambda: False)())

    def __getattr__(self, name):          # window, tokens, ... of the wrapped scorer
        return getattr(self._scorer, name)

    def __call__(self, feats):
        out = self._scorer(feats)
        self.bar.update(1)
        return out

    def close(self) -> None:
        self.bar.close()

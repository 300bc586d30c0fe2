"""``microalign data``: make training data offline (TTS corpora, teacher labels)."""
from __future__ import annotations

import click

from . import main


@main.group("data")
def data_group() -> None:
    """Make training data: synthetic speech with exact timings, teacher-labelled real speech."""

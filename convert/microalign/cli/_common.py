"""Helpers shared by the command modules."""
from __future__ import annotations

import importlib.util

import click

from ..runtime import BACKENDS

#: ``--backend`` help: one line per backend of the registry.
BACKEND_HELP = "; ".join(f"{name} = {spec.label}" for name, spec in BACKENDS.items()) + "."


def require_extra(command: str, extra: str, modules: tuple[str, ...]) -> None:
    """Fail with one line naming the missing packages and the pip extra when ``modules`` are not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise click.ClickException(f"`microalign {command}` needs the '{extra}' extra (missing: "
                                   f"{', '.join(missing)}): pip install 'microalign[{extra}]'")


def read_transcript(text: str | None, text_file) -> str:
    """The transcript from exactly one of ``--text`` and ``--text-file`` (UTF-8); a one-line error otherwise."""
    if (text is None) == (text_file is None):
        raise click.UsageError("give the transcript with exactly one of --text or --text-file")
    if text_file is None:
        return text
    if not text_file.is_file():
        raise FileNotFoundError(f"transcript file not found: {text_file}")
    try:
        return text_file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"transcript file is not UTF-8 text: {text_file}") from None

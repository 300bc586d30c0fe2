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

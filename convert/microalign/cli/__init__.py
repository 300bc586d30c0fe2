"""The ``microalign`` command line: one module per subcommand, registered here explicitly.

Every command module defines its command with ``@click.command`` and imports
only click at module level (the work is imported inside the command, so
``microalign --help`` starts fast); a command that needs an optional extra
says which when it runs without it (:func:`._common.require_extra`).
"""
from __future__ import annotations

import sys

import click

from .align_cmd import align_command
from .convert_cmd import convert_command
from .data_cmd import data_group
from .eval_cmd import eval_command
from .headers_cmd import headers_command
from .normalize_cmd import normalize_command
from .prune_cmd import prune_command
from .train_cmd import train_command


class _Group(click.Group):
    """Turns the errors bad input causes into one line and exit status 1 (no traceback)."""

    def invoke(self, ctx):
        from ..runtime.registry import BackendUnavailableError

        try:
            return super().invoke(ctx)
        # AudioError, TextError, TokenError, AlignmentError, FormatError are ValueErrors (not imported
        # here: `align --help` must not load numpy)
        except (FileNotFoundError, IsADirectoryError, PermissionError, ValueError, BackendUnavailableError) as e:
            raise click.ClickException(str(e)) from None
        except OSError as e:   # any other I/O failure (a full disk, a broken device): one line, no traceback
            where = f" {e.filename}" if e.filename else ""
            raise click.ClickException(f"I/O error{where}: {e.strerror or e}") from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="microalign")
def main() -> None:
    """microalign: forced alignment of speech and transcript, small enough for a Cortex-M7.

    \b
    microalign align AUDIO --text "..."      word and character timestamps
    microalign normalize --text "..."        the spoken-form transcript that is aligned
    microalign eval DATA                     boundary accuracy against reference timings
    microalign train ...                     train (or fine-tune, or distil) the student model
    microalign prune ...                     structured pruning: heads and channels
    microalign data synth|label|consensus    make training data (TTS, teacher labels)
    microalign convert ...                   PyTorch -> ONNX -> int8 TFLite (+ report)
    microalign headers                       regenerate the C headers from the Python constants
    """


for _command in (align_command, normalize_command, eval_command, train_command, prune_command, data_group, convert_command,
                 headers_command):
    main.add_command(_command)
del _command

"""The ``microalign`` command line: one module per subcommand (align, eval, train, data, convert, headers)."""
from __future__ import annotations

import sys

import click


class _Group(click.Group):
    """Turns the errors bad input causes into one line and exit status 1 (no traceback)."""

    def invoke(self, ctx):
        from ..audio import AudioError
        from ..text import TextError, TokenError

        try:
            return super().invoke(ctx)
        except (AudioError, TextError, TokenError, FileNotFoundError, IsADirectoryError, PermissionError,
                ValueError) as e:
            raise click.ClickException(str(e)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="microalign")
def main() -> None:
    """microalign: forced alignment of speech and transcript, small enough for a Cortex-M7.

    \b
    microalign align AUDIO --text "..."      word and character timestamps
    microalign eval DATA                     boundary accuracy against reference timings
    microalign train ...                     train (or fine-tune, or distil) the student model
    microalign prune ...                     structured pruning: heads and channels
    microalign data synth|label|consensus    make training data (TTS, teacher labels)
    microalign convert ...                   PyTorch -> ONNX -> int8 TFLite (+ report)
    microalign headers                       regenerate the C headers from the Python constants
    """


from . import align_cmd, data_cmd, eval_cmd, prune_cmd, train_cmd  # noqa: E402,F401  (register subcommands)

try:
    from . import convert_cmd  # noqa: F401
except ImportError:  # the conversion extra is optional
    pass
try:
    from . import headers_cmd  # noqa: F401
except ImportError:
    pass

"""Helpers shared by the command modules: transcripts, output paths and writes, backends, run metadata."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import click

from ..runtime import BACKENDS


def offered_backends() -> tuple[str, ...]:
    """Backends the CLI offers: those whose model ships in ``microalign/assets`` (the others stay in
    the registry and accept ``--model`` for developers who made one with ``microalign convert``)."""
    return tuple(name for name, spec in BACKENDS.items() if spec.shipped)


#: ``--backend`` help: one line per offered backend.
BACKEND_HELP = "; ".join(f"{name} = {BACKENDS[name].label}" for name in offered_backends()) + "."
#: what ``--backend`` defaults to (:func:`default_backend`)
DEFAULT_BACKEND_HELP = ("Default: the shipped int8 model (what the device computes) on TFLite Micro where its wheel "
                        "exists (x86-64 Linux), else on LiteRT reference kernels.")


class BackendChoice(click.ParamType):
    """``--backend``: the offered backends (any case); the registry's others are accepted unlisted
    (with ``--model``)."""

    name = "backend"

    @property
    def choices(self) -> tuple[str, ...]:
        """Every name it accepts: the whole registry (the help lists the offered ones)."""
        return tuple(BACKENDS)

    def get_metavar(self, param, *args, **kwargs) -> str:
        return "[" + "|".join(offered_backends()) + "]"

    def convert(self, value, param, ctx):
        v = str(value).lower()
        if v in BACKENDS:
            return v
        self.fail(f"{value!r} is not one of {', '.join(offered_backends())}", param, ctx)


def default_backend() -> str:
    """The int8 backend that runs here: ``tflm`` (TFLite Micro, what the device computes) when the
    ``tflite-micro`` wheel is installed, else ``tflite`` (LiteRT reference kernels)."""
    for name in ("tflm", "tflite"):
        if BACKENDS[name].unavailable() is None:
            return name
    from ..runtime import BackendUnavailableError

    raise BackendUnavailableError(
        "no int8 runtime is installed: pip install tflite-micro (x86-64 Linux) or ai-edge-litert "
        "(Linux, macOS arm64, Windows), or use --backend torch with pip install 'microalign[train]'")


def require_extra(command: str, extra: str, modules: tuple[str, ...]) -> None:
    """Fail with one line naming the missing packages and the pip extra when ``modules`` are not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise click.ClickException(f"`microalign {command}` needs the '{extra}' extra (missing: "
                                   f"{', '.join(missing)}): pip install 'microalign[{extra}]'")


def read_transcript(text: str | None, text_file) -> str:
    """The transcript from exactly one of ``--text`` and ``--text-file`` (UTF-8, a byte-order mark
    dropped; ``-`` reads standard input); a one-line error otherwise."""
    if (text is None) == (text_file is None):
        raise click.UsageError("give the transcript with exactly one of --text or --text-file")
    if text_file is None:
        return text.removeprefix("\ufeff")
    if str(text_file) == "-":
        stdin = sys.stdin
        raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode("utf-8")
        where = "standard input"
    else:
        text_file = Path(text_file)
        if not text_file.is_file():
            raise FileNotFoundError(f"transcript file not found: {text_file}")
        raw = text_file.read_bytes()
        where = f"transcript file {text_file}"
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{where} is not UTF-8 text (byte {e.start}: {raw[e.start:e.start + 1]!r})") from None


def check_output_path(output: Path | None) -> None:
    """Fail with one line, before any work, when ``output`` cannot be written: its directory is
    missing, a path component is a file, it is a directory, or it is not writable."""
    if output is None or str(output) == "-":
        return
    p = Path(output)
    if p.is_dir():
        raise click.ClickException(f"cannot write {p}: it is a directory")
    parent = p.parent if str(p.parent) else Path(".")
    for d in (parent, *parent.parents):
        if d.exists():
            if not d.is_dir():
                raise click.ClickException(f"cannot write {p}: {d} is not a directory")
            break
    if not parent.is_dir():
        raise click.ClickException(f"cannot write {p}: directory {parent} does not exist")
    if p.exists() and not os.access(p, os.W_OK) or not p.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise click.ClickException(f"cannot write {p}: permission denied")


def _os_error_line(e: OSError, where) -> str:
    why = e.strerror or (os.strerror(e.errno) if e.errno else str(e))
    return f"cannot write {where}: {why}"


def write_output(result: str, output: Path | None) -> None:
    """Write ``result`` to ``output`` (UTF-8) or standard output; a write error (a full disk,
    ``/dev/full``, a closed pipe) is one line and exit status 1, never a traceback."""
    if output is None or str(output) == "-":
        stream = sys.stdout
        try:
            stream.write(result)
            stream.flush()
        except BrokenPipeError:                       # `microalign align ... | head`: stop quietly
            _silence_stdout()
            sys.exit(1)
        except OSError as e:
            _silence_stdout()
            raise click.ClickException(_os_error_line(e, "standard output")) from None
        return
    try:
        with open(output, "w", encoding="utf-8") as f:
            f.write(result)
    except OSError as e:
        raise click.ClickException(_os_error_line(e, output)) from None
    click.echo(f"wrote {output}", err=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def package_version() -> str:
    """The installed microalign's version: the ``Version:`` line of its ``*.dist-info/METADATA``
    (``importlib.metadata`` would import the email package for it: 0.05 s of start-up), else
    ``importlib.metadata``'s answer, else "unknown"."""
    import glob

    for entry in sys.path:
        for meta in glob.glob(os.path.join(glob.escape(entry or "."), "microalign-*.dist-info", "METADATA")):
            try:
                with open(meta, encoding="utf-8") as f:
                    for line in f:
                        if line.startswith("Version:"):
                            return line.split(":", 1)[1].strip()
                        if not line.strip():
                            break
            except OSError:
                pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("microalign")
    except PackageNotFoundError:
        return "unknown"


def run_metadata(backend: str, model_path: Path) -> dict:
    """``version``, ``backend`` and ``model`` (file name and sha256) for the JSON output."""
    h = hashlib.sha256()
    with open(model_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"version": package_version(), "backend": backend,
            "model": {"name": Path(model_path).name, "sha256": h.hexdigest()}}


__all__ = ["BACKEND_HELP", "DEFAULT_BACKEND_HELP", "BackendChoice", "check_output_path", "default_backend", "offered_backends",
           "read_transcript", "require_extra", "run_metadata", "write_output"]

"""Checkpoint files, and the token table of any model file.

A checkpoint is a dict saved with ``torch.save``::

    {"format": "microalign-student/2", "config": StudentConfig.to_dict(),
     "state_dict": {...}, "meta": {...}, "tokens": TokenTable.to_dict()}

``tokens`` is the table the output layer scores (one column per token, in
id order). Format ``microalign-student/1`` (before tables were recorded) is
still read: such a checkpoint gets the English table
(:data:`microalign.text.tokens.ENGLISH`) if its output width fits it, with a
:class:`LegacyCheckpointWarning`.

The loaded model carries its table as ``model.tokens``; :func:`save_checkpoint`
records it again. :func:`tokens_for_model` gives the table of a checkpoint or
of a ``.tflite`` model (from the flatbuffer's ``microalign.tokens`` metadata,
else a ``<model>.tokens.json`` sidecar, else the English default with a
warning), without building the model.
"""
from __future__ import annotations

import json
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import torch

# the torch-free reading of a model file's token table (the light install), re-exported here
from ..text.model_file import (TOKENS_METADATA, LegacyCheckpointWarning, sidecar_path,  # noqa: F401
                               tflite_metadata, tflite_tokens)
from ..text.tokens import ENGLISH, TokenError, TokenTable
from .student import StudentAligner, StudentConfig

FORMAT = "microalign-student/2"
LEGACY_FORMATS = ("microalign-student/1",)


def default_model_path() -> Path:
    """The trained student shipped with the package."""
    return Path(str(resources.files("microalign") / "assets" / "student.pt"))


def _check_width(table: TokenTable, n_tokens: int, where: str) -> None:
    if table.num_tokens != n_tokens:
        raise ValueError(f"{where}: token table has {table.num_tokens} tokens (language {table.language!r}) "
                         f"but the model scores {n_tokens}")


def save_checkpoint(path: str | Path, model: StudentAligner, meta: dict | None = None,
                    tokens: TokenTable | None = None) -> None:
    """Save ``model`` with its token table: ``tokens``, else ``model.tokens``, else the English table.

    Raises ``ValueError`` when the table's size differs from the model's output width.
    """
    path = Path(path)
    table = tokens if tokens is not None else getattr(model, "tokens", None) or ENGLISH
    if not isinstance(table, TokenTable):
        raise TypeError(f"tokens must be a TokenTable, not {type(table).__name__}")
    _check_width(table, model.cfg.n_tokens, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"format": FORMAT, "config": model.cfg.to_dict(),
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "meta": meta or {}, "tokens": table.to_dict()}, tmp)
    tmp.replace(path)


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"model checkpoint not found: {path}")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for a corrupt file
        raise ValueError(f"{path}: not a readable model checkpoint ({type(e).__name__})") from None
    if not isinstance(ck, dict) or ck.get("format") not in (FORMAT,) + LEGACY_FORMATS:
        found = ck.get("format") if isinstance(ck, dict) else type(ck).__name__
        raise ValueError(f"{path}: not a {FORMAT} checkpoint (found {found!r})")
    return ck


def _table_of(ck: dict[str, Any], path: Path) -> TokenTable:
    n_tokens = int(ck["config"].get("n_tokens", ENGLISH.num_tokens))
    if ck.get("tokens") is None:
        if ck["format"] == FORMAT:
            raise ValueError(f"{path}: {FORMAT} checkpoint without its token table")
        if n_tokens != ENGLISH.num_tokens:
            raise ValueError(f"{path}: old checkpoint without a token table scores {n_tokens} tokens; "
                             f"the English default has {ENGLISH.num_tokens}")
        warnings.warn(f"{path}: checkpoint records no token table ({ck['format']}); assuming the English "
                      "table (silence, apostrophe, a-z). Re-save it with save_checkpoint to record it.",
                      LegacyCheckpointWarning, stacklevel=3)
        return ENGLISH
    try:
        table = TokenTable.from_dict(ck["tokens"])
    except TokenError as e:
        raise ValueError(f"{path}: bad token table: {e}") from None
    _check_width(table, n_tokens, str(path))
    return table


def load_checkpoint(path: str | Path | None = None) -> tuple[StudentAligner, dict]:
    """Load a student in eval mode; ``path=None`` loads the shipped model. Returns (model, meta).

    The model's token table is ``model.tokens`` (a :class:`~microalign.text.tokens.TokenTable`).
    """
    path = Path(path) if path is not None else default_model_path()
    ck = _read(path)
    table = _table_of(ck, path)
    model = StudentAligner(StudentConfig(**ck["config"]))
    model.load_state_dict(ck["state_dict"])
    model.tokens = table
    return model.eval(), dict(ck.get("meta", {}))


# ----------------------------------------------------------------------------- any model file


def embed_tokens_metadata(data: bytes, table: TokenTable) -> bytes:
    """A copy of a TFLite flatbuffer with ``table`` in its ``microalign.tokens`` metadata (replaced if present).

    Metadata does not change what the interpreter computes: the graph, tensors
    and buffers are kept (an appended buffer holds the JSON).
    """
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    if len(data) < 8 or not fb.Model.ModelBufferHasIdentifier(data, 0):
        raise ValueError(f"not a TFLite flatbuffer ({len(data)} bytes, identifier TFL3 missing)")
    if not isinstance(table, TokenTable):
        raise TypeError(f"table must be a TokenTable, not {type(table).__name__}")
    model = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    payload = json.dumps(table.to_dict(), ensure_ascii=False, sort_keys=True).encode("utf-8")
    model.buffers = list(model.buffers or [])
    model.metadata = list(model.metadata or [])
    old = [m for m in model.metadata if m.name in (TOKENS_METADATA, TOKENS_METADATA.encode())]
    if old:  # replace the table in its own buffer (no other entry points at a metadata buffer)
        md = old[0]
        model.metadata = [m for m in model.metadata if m is md or m not in old]
    else:
        md = fb.MetadataT()
        md.name = TOKENS_METADATA
        model.buffers.append(fb.BufferT())
        md.buffer = len(model.buffers) - 1
        model.metadata.append(md)
    model.buffers[md.buffer].data = list(payload)
    b = flatbuffers.Builder(len(data) + len(payload) + 1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def write_tokens_sidecar(model_path: str | Path, table: TokenTable) -> Path:
    """Write ``table`` beside a model file (for models whose format has no room for it); returns the path."""
    out = sidecar_path(model_path)
    out.write_text(json.dumps(table.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out


def tokens_for_model(path: str | Path | None = None) -> TokenTable:
    """The token table of a model file: a checkpoint (``.pt``) or a ``.tflite`` (``None``: the shipped model).

    A ``.tflite`` gives its table from the ``microalign.tokens`` metadata
    entry (JSON of :meth:`TokenTable.to_dict`), else from the sidecar
    ``<stem>.tokens.json`` beside it; a model with neither gets the English
    table with a :class:`LegacyCheckpointWarning`. Raises ``FileNotFoundError``
    for a missing file and ``ValueError`` for one that is not a model or holds
    a bad table.
    """
    path = Path(path) if path is not None else default_model_path()
    if not path.is_file():
        raise FileNotFoundError(f"model not found: {path}")
    if path.suffix.lower() != ".tflite":
        return _table_of(_read(path), path)
    return tflite_tokens(path, stacklevel=2)

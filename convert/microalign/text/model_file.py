"""The token table a ``.tflite`` model carries, read without torch, TensorFlow or TFLM.

The light install (``pip install microalign``) runs the shipped int8 model
with LiteRT or TFLite Micro; finding the model's token table must not import
the training stack (:mod:`microalign.model` imports torch). A ``.tflite``
gives its table from the ``microalign.tokens`` metadata entry (JSON of
:meth:`~microalign.text.tokens.TokenTable.to_dict`), else from the sidecar
``<stem>.tokens.json`` beside it, else the English table with a
:class:`LegacyCheckpointWarning`. The flatbuffer is read with the generic
table API of the ``flatbuffers`` package (no generated schema module), and
:func:`microalign.model.checkpoint.tokens_for_model` gives the same answer.
"""
from __future__ import annotations

import json
import struct
import warnings
from pathlib import Path

from .tokens import ENGLISH, TokenError, TokenTable

TOKENS_METADATA = "microalign.tokens"
SIDECAR_SUFFIX = ".tokens.json"

# field numbers of the TFLite schema (tensorflow/lite/schema/schema.fbs)
_MODEL_BUFFERS, _MODEL_METADATA = 4, 6
_METADATA_NAME, _METADATA_BUFFER = 0, 1
_BUFFER_DATA, _BUFFER_OFFSET, _BUFFER_SIZE = 0, 1, 2


class LegacyCheckpointWarning(UserWarning):
    """A model file that does not record its token table (the English default is assumed)."""


def sidecar_path(model_path: str | Path) -> Path:
    """``student_int8.tflite`` -> ``student_int8.tokens.json``."""
    p = Path(model_path)
    return p.with_name(p.stem + SIDECAR_SUFFIX)


def tflite_metadata(data: bytes) -> dict[str, bytes]:
    """The ``metadata`` entries of a TFLite flatbuffer: name -> the bytes of its buffer."""
    from flatbuffers import encode
    from flatbuffers import number_types as N
    from flatbuffers.table import Table

    buf = bytes(data)
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ValueError(f"not a TFLite flatbuffer ({len(buf)} bytes, identifier TFL3 missing)")
    try:
        model = Table(buf, encode.Get(N.UOffsetTFlags.packer_type, buf, 0))

        def field(tab: Table, i: int) -> int:
            return tab.Offset(4 + 2 * i)

        def tables(tab: Table, i: int) -> list[Table]:
            o = field(tab, i)
            if not o:
                return []
            start = tab.Vector(o)
            return [Table(buf, tab.Indirect(start + 4 * k)) for k in range(tab.VectorLen(o))]

        def scalar(tab: Table, i: int, kind) -> int:
            o = field(tab, i)
            return tab.Get(kind, o + tab.Pos) if o else 0

        buffers = tables(model, _MODEL_BUFFERS)
        out: dict[str, bytes] = {}
        for md in tables(model, _MODEL_METADATA):
            o = field(md, _METADATA_NAME)
            name = md.String(o + md.Pos).decode("utf-8", "replace") if o else ""
            idx = scalar(md, _METADATA_BUFFER, N.Uint32Flags)
            if idx >= len(buffers):
                continue
            b = buffers[idx]
            off, size = scalar(b, _BUFFER_OFFSET, N.Uint64Flags), scalar(b, _BUFFER_SIZE, N.Uint64Flags)
            if off > 1:   # buffers past 2 GB live after the flatbuffer
                out[name] = buf[off:off + size]
                continue
            o = field(b, _BUFFER_DATA)
            start = b.Vector(o) if o else 0
            out[name] = buf[start:start + b.VectorLen(o)] if o else b""
        return out
    except (IndexError, ValueError, TypeError, struct.error) as e:   # a truncated or garbled file
        raise ValueError(f"corrupt TFLite flatbuffer ({len(buf)} bytes): {e}") from None

def table_from_json(raw: bytes | str, where: str) -> TokenTable:
    try:
        return TokenTable.from_dict(json.loads(raw))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{where}: token table is not valid JSON ({e})") from None
    except TokenError as e:
        raise ValueError(f"{where}: bad token table: {e}") from None


def tflite_tokens(path: str | Path, *, stacklevel: int = 2) -> TokenTable:
    """The token table of a ``.tflite``: its metadata, else its sidecar, else English (with a warning)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model not found: {path}")
    meta = tflite_metadata(path.read_bytes())
    if TOKENS_METADATA in meta:
        return table_from_json(meta[TOKENS_METADATA], f"{path} (metadata {TOKENS_METADATA})")
    side = sidecar_path(path)
    if side.is_file():
        return table_from_json(side.read_bytes(), str(side))
    warnings.warn(f"{path}: the model records no token table (no {TOKENS_METADATA} metadata, no {side.name}); "
                  "assuming the English table", LegacyCheckpointWarning, stacklevel=stacklevel + 1)
    return ENGLISH

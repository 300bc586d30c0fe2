"""The C kernels ``ma_decode_s8`` and ``ma_refine_s8`` on the host, through ctypes: the int8 path
runs the device's code.

The shared object is compiled on first use with the system C compiler (``$CC``, else ``cc`` or
``gcc``) from ``tflm_app/kernels/ma_decode_s8.c`` and ``ma_refine_s8.c`` into a cache directory
(``$MICROALIGN_CACHE_DIR``, else ``$XDG_CACHE_HOME/microalign`` or ``~/.cache/microalign``), named
by a hash of the sources, the compiler and the flags, so an edited kernel is rebuilt and
concurrent processes never load a half-written file. Where no compiler (or no kernel source) is
present, :func:`available` is False and :func:`microalign.decode.viterbi_align_int` and
:func:`microalign.decode.refine.refine_int` fall back to their numpy references, which give
identical results (tests/test_decode_c.py and tests/test_refine_c.py check both).

    >>> from microalign.decode import native
    >>> native.available(), native.library_path()
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from . import _core

KERNEL_DIR = Path(__file__).resolve().parents[3] / "tflm_app" / "kernels"
GENERATED_DIR = KERNEL_DIR.parent / "generated"     # microalign_refine.h (microalign headers)
SOURCES = ("ma_decode_s8.c", "ma_decode_s8.h", "ma_refine_s8.c", "ma_refine_s8.h", "ma_status.h")
CFLAGS = ("-std=c99", "-O2", "-fPIC", "-shared")

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_error: str | None = None


class _Params(ctypes.Structure):
    _fields_ = [("band", ctypes.c_int32), ("max_band", ctypes.c_int32), ("checkpoint_interval", ctypes.c_int32),
                ("beam", ctypes.c_int32), ("silence_penalty", ctypes.c_int32)]


_P32 = ctypes.POINTER(ctypes.c_int32)


class _Output(ctypes.Structure):
    _fields_ = [(name, _P32) for name in ("token_start", "token_end", "word_start", "word_end", "word_score_sum",
                                          "word_frames", "path_score", "band", "edge_free")]


def _compiler() -> str | None:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return cc
    return None


def cache_dir() -> Path:
    if os.environ.get("MICROALIGN_CACHE_DIR"):
        return Path(os.environ["MICROALIGN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "microalign"


def _build() -> Path:
    cc = _compiler()
    if cc is None:
        raise RuntimeError("no C compiler found ($CC, cc, gcc, clang)")
    files = [KERNEL_DIR / f for f in SOURCES] + [GENERATED_DIR / "microalign_refine.h"]
    if not all(f.is_file() for f in files):
        raise RuntimeError(f"kernel sources not found in {KERNEL_DIR} and {GENERATED_DIR}")
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    h.update(" ".join((shutil.which(cc) or cc,) + CFLAGS).encode())
    out = cache_dir() / f"ma_kernels-{h.hexdigest()[:16]}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=out.parent)
    os.close(fd)
    try:
        p = subprocess.run([cc, *CFLAGS, "-I", str(KERNEL_DIR), "-I", str(GENERATED_DIR), *(str(KERNEL_DIR / f) for f in SOURCES
                                                                  if f.endswith(".c")), "-o", tmp],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{cc} failed to build ma_decode_s8 / ma_refine_s8:\n{p.stderr}")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def _load() -> ctypes.CDLL | None:
    global _lib, _error
    with _lock:
        if _lib is None and _error is None:
            try:
                lib = ctypes.CDLL(str(_build()))
                lib.ma_decode_s8.restype = ctypes.c_int32
                lib.ma_decode_s8.argtypes = [ctypes.POINTER(_Params), ctypes.c_void_p, ctypes.c_void_p,
                                             ctypes.c_int32, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32,
                                             ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32,
                                             ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(_Output)]
                for f in (lib.ma_decode_s8_get_scratch_size,):
                    f.restype = ctypes.c_int32
                    f.argtypes = [ctypes.c_int32, ctypes.c_int32, ctypes.POINTER(_Params)]
                lib.ma_decode_s8_get_checkpoint_size.restype = ctypes.c_int32
                lib.ma_decode_s8_get_checkpoint_size.argtypes = [ctypes.c_int32] * 3 + [ctypes.POINTER(_Params)]
                lib.ma_decode_s8_get_path_size.restype = ctypes.c_int32
                lib.ma_decode_s8_get_path_size.argtypes = [ctypes.c_int32] * 3 + [ctypes.POINTER(_Params)]
                lib.ma_refine_s8_get_scratch_size.restype = ctypes.c_int32
                lib.ma_refine_s8_get_scratch_size.argtypes = [ctypes.c_int32]
                lib.ma_refine_s8.restype = ctypes.c_int32
                lib.ma_refine_s8.argtypes = ([ctypes.c_void_p] * 2 + [ctypes.c_int32] * 2 + [ctypes.c_void_p] * 3
                                             + [ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32,
                                                ctypes.c_void_p, ctypes.c_int32] + [ctypes.c_void_p] * 2)
                _lib = lib
            except (RuntimeError, OSError) as e:
                _error = str(e)
        return _lib


def available() -> bool:
    """Whether the C kernel is (or can be) built and loaded on this machine."""
    return _load() is not None


def unavailable_reason() -> str | None:
    _load()
    return _error


def library_path() -> Path | None:
    lib = _load()
    return Path(lib._name) if lib is not None else None


def _ptr(a: np.ndarray):
    return a.ctypes.data_as(ctypes.c_void_p)


def decode(q: np.ndarray, graph: _core.StateGraph, k: int, bands: _core.BandParams, penalty: int, beam: int,
           frame_max: np.ndarray | None):
    """Run ``ma_decode_s8`` on validated inputs (see :func:`..viterbi_int.viterbi_align_int`)."""
    from .viterbi_int import IntAlignment

    lib = _load()
    if lib is None:
        raise _core.DecodeError(f"the C decoder is not available: {_error}", _core.STATUS_ERR_ARGUMENT)
    T, V = q.shape
    scores = np.ascontiguousarray(q, dtype=np.int8)
    fmax = None if frame_max is None else np.ascontiguousarray(frame_max, dtype=np.int8)
    tokens = np.ascontiguousarray(graph.tokens[graph.char_states], dtype=np.int32)
    lengths = np.ascontiguousarray(graph.word_lengths, dtype=np.int32)
    C, n = tokens.shape[0], lengths.shape[0]
    params = _Params(bands.band, bands.max_band, bands.interval, beam, penalty)
    scratch_n = lib.ma_decode_s8_get_scratch_size(C, n, ctypes.byref(params))
    ckpt_n = lib.ma_decode_s8_get_checkpoint_size(T, C, n, ctypes.byref(params))
    # room for the first band's whole path too (40 bytes per frame more): its traceback then replays nothing
    path_n = lib.ma_decode_s8_get_path_size(T, C, n, ctypes.byref(params))
    if path_n > 0 and ckpt_n >= 0:
        ckpt_n = path_n
    if scratch_n < 0 or ckpt_n < 0:
        raise _core.DecodeError(f"sizes out of range for ma_decode_s8: T={T}, tokens={C}, words={n} "
                                f"(scratch {scratch_n}, checkpoints {ckpt_n})", _core.STATUS_ERR_ARGUMENT)
    scratch = np.empty(scratch_n // 4, np.uint32)
    ckpt = np.empty(ckpt_n // 4, np.uint32)
    ts, te = np.empty(C, np.int32), np.empty(C, np.int32)
    ws, we, wsum, wf = (np.empty(n, np.int32) for _ in range(4))
    info = np.empty(3, np.int32)
    p32 = lambda a, i=0: ctypes.cast(a.ctypes.data + 4 * i, _P32)  # noqa: E731
    out = _Output(p32(ts), p32(te), p32(ws), p32(we), p32(wsum), p32(wf), p32(info, 0), p32(info, 1), p32(info, 2))
    status = lib.ma_decode_s8(ctypes.byref(params), _ptr(scores), None if fmax is None else _ptr(fmax), T, V,
                              _ptr(tokens), C, _ptr(lengths), n, _ptr(scratch), scratch_n, _ptr(ckpt), ckpt_n,
                              ctypes.byref(out))
    if status != 0:
        raise _core.DecodeError(f"ma_decode_s8 returned status {status} on inputs the reference accepted",
                                int(status))
    spans = np.stack([ts, te], axis=1)
    lens = te - ts
    ft = np.zeros(T, np.int32)
    idx = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(ts, lens)
    ft[idx] = np.repeat(tokens, lens)
    return IntAlignment(token_spans=_core.merge_token_spans(spans, k).astype(np.int32),
                        word_spans=np.stack([ws, we], axis=1), word_score_sum=wsum, word_frames=wf,
                        frame_tokens=ft, score=int(info[0]), band=int(info[1]), edge_free=bool(info[2]),
                        engine="c")


def refine(q: np.ndarray, words, token_spans: np.ndarray, k: int,
           frame_max: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run ``ma_refine_s8`` on validated inputs (see :func:`.refine.refine_int`): (start_ms, end_ms)."""
    lib = _load()
    if lib is None:
        raise _core.DecodeError(f"the C kernels are not available: {_error}", _core.STATUS_ERR_ARGUMENT)
    T, V = q.shape
    scores = np.ascontiguousarray(q, dtype=np.int8)
    fmax = np.ascontiguousarray(frame_max, dtype=np.int8)
    tokens = np.ascontiguousarray([c for w in words for c in w], dtype=np.int32)
    lengths = np.ascontiguousarray([len(w) for w in words], dtype=np.int32)
    spans = np.asarray(token_spans)
    ts = np.ascontiguousarray(spans[:, 0], dtype=np.int32)
    te = np.ascontiguousarray(spans[:, 1], dtype=np.int32)
    need = lib.ma_refine_s8_get_scratch_size(k)
    if need < 0:
        raise _core.DecodeError(f"ma_refine_s8 refused a duration floor of k={k}", int(need))
    scratch = np.empty(need // 4, np.uint32)
    n = lengths.shape[0]
    start, end = np.empty(n, np.int32), np.empty(n, np.int32)
    status = lib.ma_refine_s8(_ptr(scores), _ptr(fmax), T, V, _ptr(tokens), _ptr(ts), _ptr(te), tokens.shape[0],
                              _ptr(lengths), n, k, _ptr(scratch), need, _ptr(start), _ptr(end))
    if status != 0:
        raise _core.DecodeError(f"ma_refine_s8 returned status {status}", int(status))
    return start.astype(np.int64), end.astype(np.int64)

"""TFLite Micro (PyPI ``tflite-micro`` runtime): loading with its log captured, op support, arena size.

The runtime prints its errors from C (``MicroPrintf``), so they are captured
at the file-descriptor level and turned into Python exceptions that name
the cause (an operator TFLM lacks, a tensor it cannot prepare, a too small
arena).

Arena figures are measured on the host (x86-64). TFLM's persistent
structures hold pointers, so a 32-bit Cortex-M needs slightly less; the
activation plan (the arena "head") is the same.
"""
from __future__ import annotations

import ctypes
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

_MISSING_OP = re.compile(r"Didn't find op for builtin opcode '([A-Z0-9_]+)'|"
                         r"Failed to get registration from op code ([A-Z0-9_]+)")
_ALLOC_LINE = re.compile(r"\[RecordingMicroAllocator\] (.*)")


class TFLMError(RuntimeError):
    """The TFLM runtime refused the model; ``log`` holds what it printed."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class UnsupportedOpError(TFLMError):
    """The model uses operators that TFLM has no kernel for."""

    def __init__(self, ops: list[str], log: str = "") -> None:
        super().__init__(f"TFLite Micro has no kernel for operator(s): {', '.join(ops)}", log)
        self.ops = ops


@contextmanager
def captured_native_output() -> Iterator[list[str]]:
    """Capture what C code writes to stdout/stderr; the text lands in the yielded list on exit."""
    out: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    libc = ctypes.CDLL(None)
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            libc.fflush(None)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))


def _runtime():
    from tflite_micro.python.tflite_micro import runtime

    return runtime


def load_tflm(model: bytes, arena_size: int = 4 << 20, preserve_all_tensors: bool = False):
    """A TFLM interpreter for ``model``; raises :class:`UnsupportedOpError` / :class:`TFLMError` with the reason."""
    rt = _runtime()
    cfg = rt.InterpreterConfig.kPreserveAllTensors if preserve_all_tensors else rt.InterpreterConfig.kAllocationRecording
    with captured_native_output() as log:
        try:
            interp = rt.Interpreter.from_bytes(bytes(model), arena_size=int(arena_size), intrepreter_config=cfg)
            err = None
        except (RuntimeError, ValueError) as e:
            interp, err = None, e
    text = "".join(log)
    if interp is None:
        missing = sorted(set(a or b for a, b in _MISSING_OP.findall(text)))
        if missing:
            raise UnsupportedOpError(missing, text)
        reason = text.strip().splitlines()[-3:] if text.strip() else [str(err)]
        raise TFLMError(f"TFLite Micro could not load the model: {' / '.join(reason)}", text)
    return interp


def arena_fits(model: bytes, arena_size: int) -> bool:
    try:
        load_tflm(model, arena_size)
        return True
    except UnsupportedOpError:
        raise
    except TFLMError:
        return False


@dataclass
class ArenaMeasurement:
    """TFLM tensor-arena needs of a model (host build of TFLM)."""

    min_arena_bytes: int                 # smallest arena_size that allocates (to `granularity`)
    granularity: int
    recorded_total: int                  # RecordingMicroAllocator: head + tail
    recorded_head: int                   # non-persistent: the activation plan and scratch
    recorded_tail: int                   # persistent: kernel data, tensor structs
    breakdown: dict[str, int] = field(default_factory=dict)   # allocation type -> bytes used

    def to_dict(self) -> dict:
        return {"min_arena_bytes": self.min_arena_bytes, "granularity": self.granularity,
                "recorded_total": self.recorded_total, "recorded_head": self.recorded_head,
                "recorded_tail": self.recorded_tail, "breakdown": self.breakdown}


def recorded_allocations(interp) -> tuple[dict[str, int], str]:
    """The RecordingMicroAllocator summary of a loaded interpreter (values in bytes) and its raw text."""
    with captured_native_output() as log:
        interp.print_allocations()
    text = "".join(log)
    vals: dict[str, int] = {}
    for line in _ALLOC_LINE.findall(text):
        m = re.match(r"Arena allocation (total|head|tail) (\d+) bytes", line)
        if m:
            vals[m.group(1)] = int(m.group(2))
            continue
        m = re.match(r"'([^']+)' used (\d+) bytes", line)
        if m:
            vals[m.group(1)] = int(m.group(2))
    return vals, text


def measure_arena(model: bytes, granularity: int = 16, upper: int = 16 << 20) -> ArenaMeasurement:
    """Smallest arena that allocates (bisection) and the runtime's own allocation record."""
    interp = load_tflm(model, upper)                       # raises on unsupported ops
    vals, _ = recorded_allocations(interp)
    del interp
    lo, hi = 0, upper                                       # lo fails (or is 0), hi fits
    guess = vals.get("total", 0)
    if guess:                                               # the record is a tight starting bracket
        if arena_fits(model, guess):
            hi = guess
            lo = max(0, guess - 4096) if not arena_fits(model, max(1, guess - 4096)) else 0
        else:
            lo = guess
    while hi - lo > granularity:
        mid = (lo + hi) // 2 // granularity * granularity
        if mid <= lo:
            break
        if arena_fits(model, mid):
            hi = mid
        else:
            lo = mid
    breakdown = {k: v for k, v in vals.items() if k not in ("total", "head", "tail")}
    return ArenaMeasurement(hi, granularity, vals.get("total", 0), vals.get("head", 0), vals.get("tail", 0), breakdown)

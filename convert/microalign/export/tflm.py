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
    """``tflite_micro``'s interpreter module, without the package's ``__init__`` when that is not loaded yet.

    ``import tflite_micro`` also imports its model-compression tools (and PyYAML): 0.12 s of
    the int8 backend's start-up for nothing it uses. The package module is registered
    unexecuted (its ``__path__`` is all the submodule imports need) and runs its ``__init__``
    on the first attribute asked of it (``tflite_micro.compression``, ``__version__``)."""
    if "tflite_micro" not in sys.modules:
        import importlib.util

        spec = importlib.util.find_spec("tflite_micro")
        if spec is not None and spec.submodule_search_locations is not None and spec.loader is not None:
            pkg = importlib.util.module_from_spec(spec)

            def finish(name: str):
                del pkg.__getattr__                 # once: the package's own __init__ defines the rest
                spec.loader.exec_module(pkg)
                return getattr(pkg, name)

            pkg.__getattr__ = finish
            sys.modules["tflite_micro"] = pkg
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        if sys.modules.get("tflite_micro") is not None and not hasattr(sys.modules["tflite_micro"], "runtime"):
            del sys.modules["tflite_micro"]      # leave no half-made package behind
        raise
    return runtime


def count_resource_variables(model: bytes) -> int:
    """Distinct ``shared_name``s of the model's VAR_HANDLE operators, read in place from the flatbuffer.

    What ``tflite_micro``'s ``Interpreter`` computes before it builds the C++ interpreter, but
    without unpacking the whole model into Python objects (every weight byte a list item: a
    fifth of a second for the shipped model, most of ``align``'s set-up)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    m = fb.Model.GetRootAsModel(model, 0)
    var_handle = fb.BuiltinOperator.VAR_HANDLE
    codes = []
    for i in range(m.OperatorCodesLength()):
        c = m.OperatorCodes(i)
        codes.append(max(c.BuiltinCode(), c.DeprecatedBuiltinCode()))
    names = set()
    for g in range(m.SubgraphsLength()):
        sg = m.Subgraphs(g)
        for k in range(sg.OperatorsLength()):
            op = sg.Operators(k)
            if codes[op.OpcodeIndex()] == var_handle:
                opts = fb.VarHandleOptions()
                table = op.BuiltinOptions()
                if table is not None:
                    opts.Init(table.Bytes, table.Pos)
                names.add(opts.SharedName() if table is not None else None)
    return len(names)


def _new_interpreter(rt, model: bytes, arena_size: int, cfg):
    """``rt.Interpreter.from_bytes`` with :func:`count_resource_variables` instead of its slow count
    (the same C++ wrapper, the same arguments); the public call where this runtime differs."""
    try:
        wrapper_cls, translate = rt._runtime.InterpreterWrapper, rt._ENUM_TRANSLATOR[cfg]
    except (AttributeError, KeyError):
        return rt.Interpreter.from_bytes(model, arena_size=arena_size, intrepreter_config=cfg)
    interp = rt.Interpreter.__new__(rt.Interpreter)
    interp._interpreter = wrapper_cls(model, [], arena_size, count_resource_variables(model), translate, 0)
    return interp


def load_tflm(model: bytes, arena_size: int = 4 << 20, preserve_all_tensors: bool = False):
    """A TFLM interpreter for ``model``; raises :class:`UnsupportedOpError` / :class:`TFLMError` with the reason."""
    rt = _runtime()
    cfg = rt.InterpreterConfig.kPreserveAllTensors if preserve_all_tensors else rt.InterpreterConfig.kAllocationRecording
    with captured_native_output() as log:
        try:
            interp = _new_interpreter(rt, bytes(model), int(arena_size), cfg)
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

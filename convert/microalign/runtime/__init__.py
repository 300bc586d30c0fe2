"""The runtime layer below the aligner: a model window in, frame scores out, for every backend.

- :mod:`.scores`: :class:`FrameScores` and the :class:`WindowScorer` protocol the aligner calls;
- :mod:`.windows`: long audio in overlapping fixed-length windows, stitched by the owner rule
  (:func:`window_starts`, :func:`frame_scores`);
- :mod:`.backends`: torch, ONNX Runtime, LiteRT (float and int8), TFLite Micro;
- :mod:`.registry`: :data:`BACKENDS`, the one list of backend names (runtime, float or int8,
  default model file, extra), and :func:`load_backend`.

Importing this package is cheap (the registry only: the CLI reads it at start-up); scores,
windows and the backend classes load on first use. Nothing here imports :mod:`microalign.align` (it imports this).
"""
from .registry import (BACKEND_NAMES, BACKENDS, BackendSpec, BackendUnavailableError, MissingModelError,
                       backend_spec, default_model_file, load_backend)

_BACKEND_CLASSES = ("Backend", "LiteRTBackend", "OnnxBackend", "TFLMBackend", "TorchBackend")
#: loaded on first use (numpy): the CLI reads only the registry at start-up
_LAZY = {"FrameScores": "scores", "WindowScorer": "scores", "MARGIN": "windows", "frame_scores": "windows",
         "pad_window": "windows", "window_owners": "windows", "window_starts": "windows",
         **{name: "backends" for name in _BACKEND_CLASSES}}

__all__ = ["BACKEND_NAMES", "BACKENDS", "BackendSpec", "BackendUnavailableError", "FrameScores", "MARGIN",
           "MissingModelError", "WindowScorer", "backend_spec", "default_model_file", "frame_scores",
           "load_backend", "pad_window", "window_owners", "window_starts", *_BACKEND_CLASSES]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Moved: the runtime backends live in :mod:`microalign.runtime` (below the aligner, beside window stitching).

This module re-exports them for code written against ``microalign.export.backends``;
new code imports from :mod:`microalign.runtime`. The backend names are
:data:`microalign.runtime.BACKENDS`.
"""
from __future__ import annotations

from ..runtime import BACKEND_NAMES, Backend, LiteRTBackend, OnnxBackend, TFLMBackend, TorchBackend, load_backend
from ..runtime.registry import default_model_file

__all__ = ["BACKEND_NAMES", "Backend", "LiteRTBackend", "OnnxBackend", "TFLMBackend", "TorchBackend",
           "default_model_file", "load_backend"]

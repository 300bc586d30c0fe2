"""The one list of backends: name -> runtime, float or int8, default model file, the extra it needs.

The CLI (``--backend``), ``eval/compare_backends.py``, the stage comparison
(:mod:`microalign.scoring.compare`) and the tests all read :data:`BACKENDS`.
A new backend (say, the C kernels under QEMU) is one more :class:`BackendSpec`
here and one :class:`~microalign.runtime.backends.Backend` subclass.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .backends import Backend


class BackendUnavailableError(ImportError):
    """The backend's runtime is not installed (the message names the package and the extra)."""


class MissingModelError(FileNotFoundError):
    """No model given and none shipped for this backend (the message says how to make one)."""


@dataclass(frozen=True)
class BackendSpec:
    name: str
    label: str                    # for tables and plots
    runtime: str                  # what runs the model
    int8: bool                    # int8 scores (integer decoder) or float log-probs
    asset: str                    # default model: this file in microalign/assets/
    suffix: str                   # model file suffix the backend takes
    module: str                   # Python package of the runtime
    extra: str | None             # pip extra that installs it (None: a core dependency)
    factory: str                  # Backend subclass in microalign.runtime.backends (imported when loading)
    package: str | None = None    # pip name of the runtime when it is a core dependency (extra None)
    platforms: str = ""           # where that package has wheels, when not everywhere

    def backend_class(self) -> type[Backend]:
        return getattr(importlib.import_module(".backends", __package__), self.factory)

    def unavailable(self) -> str | None:
        """Why the backend cannot run here (its runtime is not installed), or ``None``."""
        if importlib.util.find_spec(self.module) is None:
            how = (f"pip install 'microalign[{self.extra}]'" if self.extra
                   else f"pip install {self.package or self.module}")
            where = f"; its wheels exist for {self.platforms} only" if self.platforms else ""
            return f"backend {self.name!r} needs the Python package {self.module!r} ({how}{where})"
        return None

    def default_model(self) -> Path:
        """Where the shipped model for this backend is (or would be) in the package."""
        return Path(str(resources.files("microalign") / "assets" / self.asset))

    @property
    def shipped(self) -> bool:
        return self.default_model().is_file()


BACKENDS: dict[str, BackendSpec] = {s.name: s for s in (
    BackendSpec("torch", "PyTorch float", "PyTorch (training graph)", False, "student.pt", ".pt",
                "torch", "train", "TorchBackend"),
    BackendSpec("onnx", "ONNX Runtime float", "ONNX Runtime (CPU)", False, "student.onnx", ".onnx",
                "onnxruntime", "convert", "OnnxBackend"),
    BackendSpec("tflite-float", "LiteRT float", "LiteRT, reference kernels", False, "student_float32.tflite",
                ".tflite", "ai_edge_litert", None, "LiteRTBackend", "ai-edge-litert",
                "Linux, macOS arm64 and Windows x86-64"),
    BackendSpec("tflite", "LiteRT int8 (ref. kernels)", "LiteRT, reference kernels", True, "student_int8.tflite",
                ".tflite", "ai_edge_litert", None, "LiteRTBackend", "ai-edge-litert",
                "Linux, macOS arm64 and Windows x86-64"),
    BackendSpec("tflm", "TFLM int8", "TFLite Micro (PyPI), what the device computes", True, "student_int8.tflite",
                ".tflite", "tflite_micro", None, "TFLMBackend", "tflite-micro", "x86-64 Linux"),
)}

#: Backend names in pipeline order (float reference first, the device last).
BACKEND_NAMES: tuple[str, ...] = tuple(BACKENDS)


def backend_spec(name: str) -> BackendSpec:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}") from None


def default_model_file(backend: str) -> Path:
    """The shipped model file for a backend (``microalign/assets/``; it may not exist)."""
    return backend_spec(backend).default_model()


def load_backend(name: str, model: str | Path | None = None, **kwargs) -> Backend:
    """A backend by name (see :data:`BACKENDS`); ``model=None`` takes the shipped model file.

    Raises :class:`BackendUnavailableError` when the runtime is not installed,
    :class:`MissingModelError` when no model is given and none is shipped,
    ``FileNotFoundError`` for a missing model file and ``ValueError`` for a
    model of the wrong kind (suffix, float vs int8, output width vs token table).
    """
    spec = backend_spec(name)
    reason = spec.unavailable()
    if reason:
        raise BackendUnavailableError(reason)
    if model is None:
        path = spec.default_model()
        if not path.is_file():
            raise MissingModelError(
                f"backend {name!r} has no shipped model ({spec.asset} is not in microalign/assets): make one with "
                f"`microalign convert --calibration DATA -o OUT` and pass --model OUT/{spec.asset}")
    else:
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
    if spec.suffix != ".pt" and path.suffix != spec.suffix:
        hint = " (convert a checkpoint with `microalign convert`)" if spec.suffix == ".tflite" else ""
        raise ValueError(f"the {name} backend needs a {spec.suffix} model, got {path.name}{hint}")
    b = spec.backend_class()(path, **kwargs)
    if b.is_int8 != spec.int8:
        kind = "int8" if b.is_int8 else "float"
        raise ValueError(f"{path.name} is a {kind} model; backend {name} needs "
                         f"{'an int8' if spec.int8 else 'a float'} model")
    if b.n_tokens != len(b.tokens):
        raise ValueError(f"{path.name} scores {b.n_tokens} tokens per frame but its token table has "
                         f"{len(b.tokens)}")
    b.name = name
    return b

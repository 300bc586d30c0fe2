"""Runtime backends: one model window of int8 features in, frame scores out.

Every backend has the same interface::

    b = load_backend("tflm", "out/student_int8.tflite")
    raw = b.run(window)          # window: int8 [b.window, N_MELS]
    # float backends: float32 log-probs [window, V]; int8 backends: int8 [window, V]
    b.output_quant               # None (float) or (scale, zero_point) of the int8 output
    b.log_probs(window)          # float32 in every case (int8 dequantised)
    b(window)                    # microalign.align.FrameScores: the WindowScorer the aligner calls

=============  ==========================  ======  ==========================================
name           runtime                     output  model file
=============  ==========================  ======  ==========================================
torch          PyTorch (training graph)    float   student checkpoint (.pt)
onnx           ONNX Runtime (CPU)          float   .onnx from :func:`convert_checkpoint`
tflite-float   LiteRT, reference kernels   float   ``*_float32.tflite``
tflite         LiteRT, reference kernels   int8    ``*_int8.tflite``
tflm           TFLite Micro (PyPI)         int8    ``*_int8.tflite``
=============  ==========================  ======  ==========================================

LiteRT runs with ``OpResolverType.BUILTIN_REF``: its default (XNNPACK) int8
path drifts furthest from TFLM, which is what the device runs. The int8
input is fed the device features unchanged when the model's input scale is
1/32 and zero point 0 (what :func:`convert_checkpoint` pins); otherwise the
features are requantised to the model's input scale.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..frontend import INPUT_SCALE, N_MELS

BACKEND_NAMES = ("torch", "onnx", "tflite-float", "tflite", "tflm")
ASSET_FILES = {"onnx": "student.onnx", "tflite-float": "student_float32.tflite",
               "tflite": "student_int8.tflite", "tflm": "student_int8.tflite"}


class Backend:
    """Base class: subclasses implement :meth:`run`."""

    name: str = ""
    window: int = 400
    n_mels: int = N_MELS
    output_quant: tuple[float, int] | None = None     # set by int8 backends

    @property
    def is_int8(self) -> bool:
        return self.output_quant is not None

    def _check(self, window: np.ndarray) -> np.ndarray:
        w = np.asarray(window)
        if w.shape != (self.window, self.n_mels):
            raise ValueError(f"{self.name}: expected a window of shape ({self.window}, {self.n_mels}), got {w.shape}")
        if w.dtype != np.int8:
            raise TypeError(f"{self.name}: expected int8 features, got {w.dtype}")
        return w

    def run(self, window: np.ndarray) -> np.ndarray:
        """Raw output [window, V]: float32 log-probs, or int8 scores (see :attr:`output_quant`)."""
        raise NotImplementedError

    def log_probs(self, window: np.ndarray) -> np.ndarray:
        y = self.run(window)
        if self.output_quant is None:
            return y
        s, z = self.output_quant
        return ((y.astype(np.float32) - np.float32(z)) * np.float32(s)).astype(np.float32)

    def __call__(self, window: np.ndarray):
        from ..align import FrameScores

        y = self.run(window)
        if self.output_quant is None:
            return FrameScores(y)
        return FrameScores(y, float(self.output_quant[0]), int(self.output_quant[1]))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} window={self.window}>"


class TorchBackend(Backend):
    """The float PyTorch model (training graph, eval mode), or its export rewrite with ``export_graph``."""

    name = "torch"

    def __init__(self, checkpoint=None, *, model=None, export_graph: bool = False, threads: int | None = None) -> None:
        import torch

        from ..model import load_checkpoint

        if threads:
            torch.set_num_threads(threads)
        if model is None:
            model, _ = load_checkpoint(checkpoint)
        if export_graph:
            from .graph import ExportAligner

            model = ExportAligner(model)
        self.model = model.eval()
        self.window, self.n_mels = model.cfg.window, model.cfg.n_mels

    def run(self, window: np.ndarray) -> np.ndarray:
        import torch

        from ..frontend import model_input

        w = self._check(window)
        with torch.no_grad():
            return self.model(torch.from_numpy(model_input(w))[None])[0].numpy().astype(np.float32)


class OnnxBackend(Backend):
    """ONNX Runtime, CPU, float model."""

    name = "onnx"

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(_existing(path)), opts, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        _, self.window, self.n_mels = inp.shape

    def run(self, window: np.ndarray) -> np.ndarray:
        w = self._check(window)
        x = (w.astype(np.float32) * np.float32(INPUT_SCALE))[None]
        return self.session.run(None, {self.input_name: x})[0][0].astype(np.float32)


class _TFLiteIO:
    """Input feeding shared by LiteRT and TFLM: float, or int8 (requantised unless scale 1/32, zp 0)."""

    def _setup_io(self, in_dtype, in_quant, out_dtype, out_quant, shape) -> None:
        if len(shape) != 3 or shape[0] != 1:
            raise ValueError(f"expected a model input [1, window, mels], got {list(shape)}")
        self.window, self.n_mels = int(shape[1]), int(shape[2])
        self.in_dtype = np.dtype(in_dtype)
        self.in_quant = in_quant if self.in_dtype == np.int8 else None
        self.output_quant = (float(out_quant[0]), int(out_quant[1])) if np.dtype(out_dtype) == np.int8 else None
        self.passthrough = self.in_quant is not None and abs(self.in_quant[0] - INPUT_SCALE) < 1e-12 and self.in_quant[1] == 0

    def _input(self, w: np.ndarray) -> np.ndarray:
        if self.in_quant is None:
            return (w.astype(np.float32) * np.float32(INPUT_SCALE))[None]
        if self.passthrough:
            return w[None]
        s, z = self.in_quant
        q = np.rint(w.astype(np.float64) * INPUT_SCALE / s) + z
        return np.clip(q, -128, 127).astype(np.int8)[None]


class LiteRTBackend(_TFLiteIO, Backend):
    """LiteRT (``ai_edge_litert``) with reference kernels; float or int8 by the model file."""

    def __init__(self, path: str | Path, reference_kernels: bool = True) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        kind = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
        self.interp = Interpreter(model_path=str(_existing(path)), experimental_op_resolver_type=kind, num_threads=1)
        self.interp.allocate_tensors()
        i, o = self.interp.get_input_details()[0], self.interp.get_output_details()[0]
        self._in, self._out = i["index"], o["index"]
        self._setup_io(i["dtype"], i["quantization"], o["dtype"], o["quantization"], i["shape"])
        self.name = "tflite" if self.output_quant else "tflite-float"

    def run(self, window: np.ndarray) -> np.ndarray:
        self.interp.set_tensor(self._in, self._input(self._check(window)))
        self.interp.invoke()
        return self.interp.get_tensor(self._out)[0].copy()


class TFLMBackend(_TFLiteIO, Backend):
    """TFLite Micro's PyPI runtime (reference kernels, what the device computes)."""

    name = "tflm"

    def __init__(self, path: str | Path, arena_size: int = 4 << 20) -> None:
        from .tflm import load_tflm
        from .tflite_model import read_tflite

        data = _existing(path).read_bytes()
        info = read_tflite(data)
        ti, to = info.tensors[info.inputs[0]], info.tensors[info.outputs[0]]
        qi, qo = info.io_quant()
        self._setup_io(ti.dtype, qi, to.dtype, qo or (0.0, 0), ti.shape)
        if self.in_quant is None or self.output_quant is None:
            raise ValueError(f"{path}: the tflm backend runs int8 models (input {ti.dtype}, output {to.dtype})")
        self.interp = load_tflm(data, arena_size)

    def run(self, window: np.ndarray) -> np.ndarray:
        self.interp.set_input(self._input(self._check(window)), 0)
        self.interp.invoke()
        return np.array(self.interp.get_output(0)[0], copy=True)


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"model file not found: {p}")
    return p


def default_model_file(backend: str) -> Path:
    """The shipped converted model for a backend (``microalign/assets/``)."""
    from ..model import default_model_path

    if backend == "torch":
        return default_model_path()
    return default_model_path().parent / ASSET_FILES[backend]


def load_backend(name: str, model: str | Path | None = None, **kwargs) -> Backend:
    """A backend by name (see :data:`BACKEND_NAMES`); ``model=None`` takes the shipped model file."""
    if name not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")
    path = Path(model) if model is not None else default_model_file(name)
    if name == "torch":
        return TorchBackend(path, **kwargs)
    if not path.is_file():
        hint = " (make it with `microalign convert`)" if model is None else ""
        raise FileNotFoundError(f"model file not found: {path}{hint}")
    if name == "onnx":
        if path.suffix != ".onnx":
            raise ValueError(f"the onnx backend needs a .onnx model, got {path.name}")
        return OnnxBackend(path, **kwargs)
    if path.suffix != ".tflite":
        raise ValueError(f"the {name} backend needs a .tflite model, got {path.name}"
                         " (convert a checkpoint with `microalign convert`)")
    b: Backend = TFLMBackend(path, **kwargs) if name == "tflm" else LiteRTBackend(path, **kwargs)
    want_int8 = name in ("tflite", "tflm")
    if b.is_int8 != want_int8:
        kind = "int8" if b.is_int8 else "float"
        raise ValueError(f"{path.name} is a {kind} model; backend {name} needs "
                         f"{'an int8' if want_int8 else 'a float'} model")
    return b


def scorer_for_backend(backend: str, model: str | Path | None = None) -> Backend:
    """The window scorer ``microalign align --backend`` uses (a :class:`Backend` is a WindowScorer)."""
    return load_backend(backend, model)

"""Runtime backends: one model window of int8 features in, frame scores out.

Every backend has the same interface::

    b = load_backend("tflm", "out/student_int8.tflite")   # microalign.runtime.load_backend
    raw = b.run(window)          # window: int8 [b.window, N_MELS]
    # float backends: float32 log-probs [window, V]; int8 backends: int8 [window, V]
    b.output_quant               # None (float) or (scale, zero_point) of the int8 output
    b.log_probs(window)          # float32 in every case (int8 dequantised)
    b(window)                    # FrameScores: the WindowScorer the aligner calls
    b.tokens                     # the model's token table, one output column per token

Which backends exist, their runtimes and default model files: the registry,
:data:`microalign.runtime.BACKENDS`.

LiteRT runs with ``OpResolverType.BUILTIN_REF``: its default (XNNPACK) int8
path drifts furthest from TFLM, which is what the device runs. The int8
input is fed the device features unchanged when the model's input scale is
1/32 and zero point 0 (what :func:`microalign.export.convert_checkpoint`
pins); otherwise the features are requantised to the model's input scale.
"""
from __future__ import annotations

from pathlib import Path
import numpy as np

from ..frontend import INPUT_SCALE, N_MELS
from ..text.tokens import ENGLISH, TokenTable
from .scores import FrameScores


def model_file_tokens(path: str | Path) -> TokenTable:
    """The token table of a model file: a checkpoint or ``.tflite`` by
    :func:`microalign.model.checkpoint.tokens_for_model`; any other file (``.onnx``) by its
    ``<stem>.tokens.json`` sidecar, else the English table with a ``LegacyCheckpointWarning``."""
    import json
    import warnings

    from ..text.model_file import LegacyCheckpointWarning, sidecar_path, tflite_tokens

    p = Path(path)
    if p.suffix.lower() == ".tflite":          # torch-free: the light install reads it too
        return tflite_tokens(p, stacklevel=3)
    if p.suffix.lower() == ".pt":
        from ..model.checkpoint import tokens_for_model

        return tokens_for_model(p)
    side = sidecar_path(p)
    if side.is_file():
        try:
            return TokenTable.from_dict(json.loads(side.read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"{side}: bad token table: {e}") from None
    warnings.warn(f"{p}: the model records no token table (no {side.name}); assuming the English table",
                  LegacyCheckpointWarning, stacklevel=3)
    return ENGLISH


class Backend:
    """Base class: subclasses set ``window``, ``n_mels``, ``n_tokens``, ``tokens`` (and ``output_quant``)
    and implement :meth:`run`."""

    name: str = ""
    window: int = 400
    n_mels: int = N_MELS
    n_tokens: int = 0                                  # output columns of the model
    output_quant: tuple[float, int] | None = None     # set by int8 backends
    tokens: TokenTable = ENGLISH                       # the model's token table (set from the model file)

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
        return self(window).log_probs()

    def __call__(self, window: np.ndarray) -> FrameScores:
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
        self.meta: dict = {}
        if model is None:
            model, self.meta = load_checkpoint(checkpoint)
        self.tokens = getattr(model, "tokens", None) or ENGLISH
        if export_graph:
            from ..export.graph import ExportAligner

            model = ExportAligner(model)
        self.model = model.eval()
        self.window, self.n_mels, self.n_tokens = model.cfg.window, model.cfg.n_mels, model.cfg.n_tokens

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
        self.session = ort.InferenceSession(str(existing_file(path)), opts, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        _, self.window, self.n_mels = inp.shape
        self.n_tokens = int(self.session.get_outputs()[0].shape[-1])
        self.tokens = model_file_tokens(path)

    def run(self, window: np.ndarray) -> np.ndarray:
        w = self._check(window)
        x = (w.astype(np.float32) * np.float32(INPUT_SCALE))[None]
        return self.session.run(None, {self.input_name: x})[0][0].astype(np.float32)


class _TFLiteIO:
    """Input feeding shared by LiteRT and TFLM: float, or int8 (requantised unless scale 1/32, zp 0)."""

    def _setup_io(self, in_dtype, in_quant, out_dtype, out_quant, shape, out_shape) -> None:
        if len(shape) != 3 or shape[0] != 1:
            raise ValueError(f"expected a model input [1, window, mels], got {list(shape)}")
        self.window, self.n_mels = int(shape[1]), int(shape[2])
        self.n_tokens = int(out_shape[-1])
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
        self.interp = Interpreter(model_path=str(existing_file(path)), experimental_op_resolver_type=kind, num_threads=1)
        self.interp.allocate_tensors()
        i, o = self.interp.get_input_details()[0], self.interp.get_output_details()[0]
        self._in, self._out = i["index"], o["index"]
        self._setup_io(i["dtype"], i["quantization"], o["dtype"], o["quantization"], i["shape"], o["shape"])
        self.name = "tflite" if self.output_quant else "tflite-float"
        self.tokens = model_file_tokens(path)

    def run(self, window: np.ndarray) -> np.ndarray:
        self.interp.set_tensor(self._in, self._input(self._check(window)))
        self.interp.invoke()
        return self.interp.get_tensor(self._out)[0].copy()


class TFLMBackend(_TFLiteIO, Backend):
    """TFLite Micro's PyPI runtime (reference kernels, what the device computes)."""

    name = "tflm"

    def __init__(self, path: str | Path, arena_size: int = 4 << 20) -> None:
        from ..export.tflm import load_tflm

        self.interp = load_tflm(existing_file(path).read_bytes(), arena_size)
        # the I/O tensors as the interpreter holds them (no second parse of the flatbuffer: start-up time)
        ti, to = self.interp.get_input_details(0), self.interp.get_output_details(0)

        def quant(d):
            q = d["quantization_parameters"]
            return (float(q["scales"][0]), int(q["zero_points"][0])) if len(q["scales"]) == 1 else None

        self._setup_io(ti["dtype"], quant(ti), to["dtype"], quant(to) or (0.0, 0), tuple(ti["shape"]), tuple(to["shape"]))
        if self.in_quant is None or self.output_quant is None:
            raise ValueError(f"{path}: the tflm backend runs int8 models "
                             f"(input {np.dtype(ti['dtype'])}, output {np.dtype(to['dtype'])})")
        self.tokens = model_file_tokens(path)

    def run(self, window: np.ndarray) -> np.ndarray:
        self.interp.set_input(self._input(self._check(window)), 0)
        self.interp.invoke()
        return np.array(self.interp.get_output(0)[0], copy=True)


def existing_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"model file not found: {p}")
    return p

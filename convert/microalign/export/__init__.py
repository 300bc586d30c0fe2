"""PyTorch → ONNX → TFLite (float32 and full int8) for TFLite Micro, with checks and a report.

Library entry points:

- :func:`convert_checkpoint` (``.convert``): the whole conversion, one progress line per stage;
- :func:`requantize` (``.convert``): another int8 model from the same SavedModel (calibration studies);
- :func:`load_backend` / :class:`Backend`: re-exported from :mod:`microalign.runtime`, where the backends live;
- :func:`read_tflite` (``.tflite_model``): operators, tensors, quantisation of a .tflite without TensorFlow;
- :func:`measure_arena` (``.tflm``): the TFLM tensor arena a model needs.

TensorFlow and onnx2tf are imported only by the conversion itself.
"""
from ..runtime import BACKEND_NAMES, Backend, load_backend
from .convert import ConversionResult, convert_checkpoint, requantize
from .stages import ConversionError
from .tflite_model import read_tflite
from .tflm import TFLMError, UnsupportedOpError, measure_arena

__all__ = ["BACKEND_NAMES", "Backend", "ConversionError", "ConversionResult", "TFLMError", "UnsupportedOpError",
           "convert_checkpoint", "load_backend", "measure_arena", "read_tflite", "requantize"]

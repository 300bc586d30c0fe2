"""PyTorch → ONNX → TFLite (float32 and full int8) for TFLite Micro, with checks and a report.

Library entry points:

- :func:`convert_checkpoint` (``.convert``): the whole conversion, one progress line per stage;
- :func:`requantize` (``.convert``): another int8 model from the same SavedModel (calibration studies);
- :func:`load_backend` / :class:`Backend`: re-exported from :mod:`microalign.runtime`, where the backends live;
- :func:`read_tflite` (``.tflite_model``): operators, tensors, quantisation of a .tflite without TensorFlow;
- :func:`measure_arena` (``.tflm``): the TFLM tensor arena a model needs.

TensorFlow and onnx2tf are imported only by the conversion itself.
"""
import importlib

#: name -> submodule it comes from (imported on first use: the int8 backend's start-up loads
#: ``.tflm`` alone, not the converter and the flatbuffer reader)
_LAZY = {"BACKEND_NAMES": "..runtime", "Backend": "..runtime", "load_backend": "..runtime",
         "ConversionResult": ".convert", "convert_checkpoint": ".convert", "requantize": ".convert",
         "ConversionError": ".stages", "read_tflite": ".tflite_model", "TFLMError": ".tflm",
         "UnsupportedOpError": ".tflm", "measure_arena": ".tflm"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["BACKEND_NAMES", "Backend", "ConversionError", "ConversionResult", "TFLMError", "UnsupportedOpError",
           "convert_checkpoint", "load_backend", "measure_arena", "read_tflite", "requantize"]

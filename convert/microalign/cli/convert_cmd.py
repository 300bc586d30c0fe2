"""``microalign convert``: PyTorch checkpoint -> ONNX -> full-int8 TFLite, with a report."""
from __future__ import annotations

from pathlib import Path

import click

from ._common import require_extra

#: what the conversion imports (the ``convert`` extra)
CONVERT_MODULES = ("tensorflow", "onnx", "onnx2tf", "onnxruntime", "ai_edge_litert", "tflite_micro")


@click.command("convert")
@click.option("--model", type=click.Path(path_type=Path), default=None,
              help="Student checkpoint (default: the shipped model).")
@click.option("--calibration", required=True, type=click.Path(path_type=Path),
              help="Representative data: a manifest, a folder of manifests or an audio folder (real frontend features).")
@click.option("--n-calib", type=int, default=200, show_default=True, help="Calibration windows.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--out", "out", type=click.Path(path_type=Path), required=True,
              help="Output folder: student.onnx, student_float32.tflite, student_int8.tflite, student_device.tflite, "
                   "student_qspi.bin, report.md/json.")
def convert_command(model: Path | None, calibration: Path, n_calib: int, seed: int, out: Path) -> None:
    """Convert the student to a full-int8 TFLite flatbuffer for TensorFlow Lite Micro.

    Every stage's artefact is checked; an operator TFLM lacks fails the
    conversion with its name. The same inputs give the same bytes.
    """
    require_extra("convert", "convert", CONVERT_MODULES)
    from ..export import ConversionError, convert_checkpoint

    try:
        result = convert_checkpoint(model, out, calibration, n_calib=n_calib, seed=seed)
    except ConversionError as e:
        raise click.ClickException(str(e)) from None
    click.echo(result.summary())
    if result.tflite_device is not None:   # the firmware's weight image (tflm_app/app/ma_image.c reads it)
        from ..export.image import write_image

        qspi = out / "student_qspi.bin"
        qspi.write_bytes(write_image(result.tflite_device.read_bytes()))
        click.echo(f"wrote {qspi}: {qspi.stat().st_size:,} B device weight image (headers of tflm_app/generated)")

"""``microalign convert``: PyTorch checkpoint -> ONNX -> full-int8 TFLite, with a report."""
from __future__ import annotations

from pathlib import Path

import click

from . import main


@main.command("convert")
@click.option("--model", type=click.Path(path_type=Path), default=None,
              help="Student checkpoint (default: the shipped model).")
@click.option("--calibration", required=True, type=click.Path(path_type=Path),
              help="Representative data: a manifest, a folder of manifests or an audio folder (real frontend features).")
@click.option("--n-calib", type=int, default=200, show_default=True, help="Calibration windows.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--out", "out", type=click.Path(path_type=Path), required=True,
              help="Output folder: student.onnx, student_float32.tflite, student_int8.tflite, report.md/json.")
def convert_command(model: Path | None, calibration: Path, n_calib: int, seed: int, out: Path) -> None:
    """Convert the student to a full-int8 TFLite flatbuffer for TensorFlow Lite Micro.

    Every stage's artefact is checked; an operator TFLM lacks fails the
    conversion with its name. The same inputs give the same bytes.
    """
    from ..export import ConversionError, convert_checkpoint

    try:
        result = convert_checkpoint(model, out, calibration, n_calib=n_calib, seed=seed)
    except ConversionError as e:
        raise click.ClickException(str(e)) from None
    click.echo(result.summary())

"""The conversion notebook runs headless (nbclient) on a tiny configuration, and is stored without outputs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "convert" / "convert_notebook.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, cell["source"][:2]
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1


def test_notebook_executes(tmp_path, timit_dev):
    pytest.importorskip("tensorflow")
    pytest.importorskip("onnx2tf")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from test_export import random_student

    from microalign.model import save_checkpoint

    ckpt = tmp_path / "random_student.pt"
    save_checkpoint(ckpt, random_student(), meta={"note": "test: random weights"})
    out = tmp_path / "out"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source = "\n".join([
        f"MODEL = {str(ckpt)!r}",
        f"CALIBRATION = {str(REPO / 'convert' / 'microalign' / 'assets')!r}",   # the bundled sample: 3 windows
        "N_CALIB = 3",
        f"DATA = {str(timit_dev)!r}",
        "N_UTTERANCES = 2",
        "CALIB_SWEEP = [2]",
        f"OUT_DIR = {str(out)!r}",
        "SEED = 0",
    ])
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()                       # raises CellExecutionError with the failing cell
    for name in ("student_int8.tflite", "report.md", "boundary_cdf.png", "utterance.png", "output_error.png",
                 "student_int8_n2_s0.tflite"):
        assert (out / name).is_file(), name
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "int8, scale 0.03125, zero point 0" in text
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(shown) >= 4                 # three report PNGs and the log-prob figure

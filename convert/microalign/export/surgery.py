"""Graph surgery: the device flatbuffer for TFLite Micro, attention fused into ``FA_ATTENTION``.

``device_flatbuffer(int8_tflite) -> SurgeryResult`` rewrites the converted
builtin-only int8 model (which stays as it is, for stock runtimes): every
attention subgraph :func:`.flatbuffer.match_attention` accepts —
``[MUL(q, c)] -> BATCH_MATMUL(q', k, adj_y) -> [MUL(., c2)] -> SOFTMAX -> BATCH_MATMUL(p, v)``,
exactly what ``tflm_app/kernels/ma_attention_s8.c`` computes — becomes one
CUSTOM ``FA_ATTENTION`` operator (inputs q, k, v; output the second
BATCH_MATMUL's output) at the position of that BATCH_MATMUL. Its custom
options carry the quantisation no tensor of the fused op holds (see
:func:`.flatbuffer.fa_attention_options`); q, k, v and the output keep theirs.
Every other operator, tensor and buffer is unchanged; tensors left without a
user are dropped. The result is re-parsed with the TFLite schema before it is
returned. Same input, same bytes.

Decoding is not part of the device graph: the application decodes the whole
stitched utterance (windows of 4 s overlap), not one window.

FULLY_CONNECTED stays FULLY_CONNECTED (no rewrite into a 1x1 CONV_2D): with the
TFLM commit the firmware builds (see ``../shared/tflm/README.md``), CMSIS-NN's
``fully_connected.cc`` already runs ``arm_convolve_1x1_s8_fast`` ->
``arm_nn_mat_mult_nt_t_s8`` (2 rows x 2 output channels per step) when the output
has more than two dimensions and the input depth is a multiple of 4, as every FC
of the shipped model has: the routine a 1x1 CONV_2D would run, with the same
arguments (``eval/profile_functions.py`` shows all of the FC operators'
instructions in ``arm_nn_mat_mult_nt_t_s8``). With TFLM's reference kernels a
CONV_2D costs ≈ 9x the instructions per MAC of a FULLY_CONNECTED
(``eval/results/device.md``), so the rewrite would only slow those builds down.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import flatbuffer as fbk
from .flatbuffer import FA_ATTENTION, FlatbufferError

__all__ = ["FA_ATTENTION", "SurgeryResult", "check_device_flatbuffer", "custom_ops", "device_flatbuffer"]


@dataclass
class SurgeryResult:
    data: bytes
    attention_fused: int
    attention_skipped: list[str] = field(default_factory=list)   # why a SOFTMAX was not fused


def device_flatbuffer(src: bytes | str | Path, *, fuse_attention: bool = True) -> SurgeryResult:
    """Rewrite an int8 .tflite into the device flatbuffer (see the module docstring)."""
    fb = fbk.schema()
    data = fbk.model_bytes(src)
    model = fbk.load(data)
    if len(model.subgraphs) != 1:
        raise FlatbufferError(f"expected one subgraph, got {len(model.subgraphs)}")
    if any((oc.customCode or b"").decode() == FA_ATTENTION for oc in model.operatorCodes):
        raise FlatbufferError(f"model already has {FA_ATTENTION} operators (surgery ran on it before)")
    sg = model.subgraphs[0]
    sites, misses = fbk.match_attention(model) if fuse_attention else ([], [])
    skipped = [m.reason for m in misses]
    if sites:
        code = fbk.opcode_index(model, custom=FA_ATTENTION)
        replace: dict[int, object] = {}
        drop: set[int] = set()
        for s in sites:
            op = fb.OperatorT()
            op.opcodeIndex = code
            op.inputs = np.asarray([s.q, s.k, s.v], dtype=np.int32)
            op.outputs = np.asarray([s.out], dtype=np.int32)
            fbk.set_custom_options(op, fbk.fa_attention_options(s))
            replace[s.ops[-1]] = op                 # where the result is produced: v is ready there
            drop.update(s.ops[:-1])
        sg.operators = [replace.get(i, op) for i, op in enumerate(sg.operators) if i not in drop]
        fbk.prune_tensors(sg)
    out = fbk.save(model, len(data) + 4096)
    fbk.verify(out)
    return SurgeryResult(out, len(sites), skipped)


def custom_ops(data: bytes) -> list[tuple[str, list[int], list[int], dict]]:
    """(custom code, inputs, outputs, options) of every CUSTOM op, in graph order."""
    m = fbk.load(data)
    out = []
    for op in m.subgraphs[0].operators:
        cc = fbk.custom_code(m, op)
        if cc is not None:
            out.append((cc, [int(i) for i in op.inputs], [int(i) for i in op.outputs], fbk.custom_options(op)))
    return out


def check_device_flatbuffer(data: bytes) -> None:
    """Re-parse with the TFLite schema; raise :class:`~.flatbuffer.FlatbufferError` (a ValueError) if malformed."""
    fbk.verify(data)


def main(argv: list[str] | None = None) -> int:
    """``python -m microalign.export.surgery INT8 DEVICE``: write the device flatbuffer of an int8 model
    (e.g. regenerate ``assets/student_device.tflite`` after ``assets/student_int8.tflite`` changed)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m microalign.export.surgery", description=main.__doc__.split("\n")[0])
    ap.add_argument("int8", type=Path, help="builtin-only int8 .tflite")
    ap.add_argument("device", type=Path, help="device .tflite to write")
    a = ap.parse_args(argv)
    res = device_flatbuffer(a.int8)
    a.device.write_bytes(res.data)
    print(f"wrote {a.device} ({len(res.data):,} B): {res.attention_fused} FA_ATTENTION"
          + (f"; not fused: {'; '.join(res.attention_skipped)}" if res.attention_skipped else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Integer-exact numpy reference of the fused int8 attention kernel.

The kernel (``tflm_app/kernels/ma_attention_s8.c``) replaces this int8
subgraph of the converted model, per head ``h``::

    q' = MUL(q, c)                 # optional: q * dk**-0.5 as the converter emits it
    s  = BATCH_MATMUL(q', k, adj_y=True)        # [Tq, Tk] int8 scores
    s' = MUL(s, c2)                # optional: a scale on the scores instead
    p  = SOFTMAX(s', beta)         # int8, scale 1/256, zero point -128
    o  = BATCH_MATMUL(p, v)        # [Tq, dk] int8

in TFLite Micro's reference-kernel arithmetic (``batch_matmul.h``,
``integer_ops/mul.h``, ``softmax.h`` with gemmlowp fixed point). This module
computes the same thing with whole-matrix numpy operations (no lookup
tables), so it is an independent check of the C kernel's row-by-row,
table-driven implementation; :func:`make_params` is the reference for the C
``ma_attention_s8_params_init`` (what TFLM's Prepare functions compute).

Local window: with ``window=(left, right)`` query ``i`` attends to keys
``max(0, i-left) .. min(Tk-1, i+right)`` only. The result for row ``i`` is,
by definition, what the builtin subgraph computes for that row with ``k``
and ``v`` cut to those rows.

One deliberate extension: TFLM's int8 SOFTMAX aborts (``TFLITE_CHECK``,
the process dies) when a row's sum of exponentials reaches 512, e.g. 512
keys tied at the row maximum, because its final rounding shift would exceed
31. Here (and in C) the same arithmetic goes on with a wider shift: every
probability of such a row rounds to 0 (-128). A consequence of int8
softmax worth knowing for long windows: p >= 1 LSB needs exp_j/sum >= 1/512,
so no row has more than about 512 non-zero probabilities.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import fixedpoint as fp

SOFTMAX_OUT_SCALE = np.float32(1.0 / 256.0)
SOFTMAX_OUT_ZP = -128
MAX_KV_LEN = 4095          # sum of exps (Q12.19, each <= 2**19) must fit in int32
EXP_INTEGER_BITS = 5       # kScaledDiffIntegerBits
ACCUM_INTEGER_BITS = 12    # kAccumulationIntegerBits


@dataclass(frozen=True)
class TensorQuant:
    """Per-tensor int8 quantisation as stored in the flatbuffer (scale is a float32)."""

    scale: float
    zero_point: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", float(np.float32(self.scale)))
        object.__setattr__(self, "zero_point", int(self.zero_point))
        if not (self.scale > 0 and np.isfinite(self.scale)):
            raise ValueError(f"scale must be positive and finite, got {self.scale}")
        if not -128 <= self.zero_point <= 127:
            raise ValueError(f"int8 zero point out of range: {self.zero_point}")


@dataclass(frozen=True)
class ConstMul:
    """An int8 MUL by a constant scalar: ``out = MUL(x, const)``, no fused activation."""

    const: int                 # the int8 value of the constant tensor
    const_q: TensorQuant
    out: TensorQuant


@dataclass(frozen=True)
class AttentionQuant:
    """Quantisation of every tensor of the replaced subgraph (float scales, as in the flatbuffer)."""

    q: TensorQuant
    k: TensorQuant
    v: TensorQuant
    scores: TensorQuant        # output of BATCH_MATMUL(q', k)
    out: TensorQuant           # output of BATCH_MATMUL(p, v)
    q_mul: ConstMul | None = None
    score_mul: ConstMul | None = None
    softmax_beta: float = 1.0

    def to_dict(self) -> dict:
        def tq(t):
            return {"scale": t.scale, "zero_point": t.zero_point}

        def cm(c):
            return None if c is None else {"const": c.const, "const_q": tq(c.const_q), "out": tq(c.out)}
        return {"q": tq(self.q), "k": tq(self.k), "v": tq(self.v), "scores": tq(self.scores),
                "out": tq(self.out), "q_mul": cm(self.q_mul), "score_mul": cm(self.score_mul),
                "softmax_beta": self.softmax_beta}

    @classmethod
    def from_dict(cls, d: dict) -> "AttentionQuant":
        def tq(t):
            return TensorQuant(t["scale"], t["zero_point"])

        def cm(c):
            return None if c is None else ConstMul(c["const"], tq(c["const_q"]), tq(c["out"]))
        return cls(tq(d["q"]), tq(d["k"]), tq(d["v"]), tq(d["scores"]), tq(d["out"]),
                   cm(d.get("q_mul")), cm(d.get("score_mul")), float(d.get("softmax_beta", 1.0)))


@dataclass
class AttentionParams:
    """Integer parameters (what Prepare computes); field names match ``ma_attention_s8_params``."""

    q_map: np.ndarray | None          # int8[256], index x + 128: the MUL on q, or None
    qk_lhs_zp: int                    # zero point of q' (after the MUL)
    qk_rhs_zp: int                    # zero point of k
    qk_multiplier: int
    qk_shift: int
    qk_out_zp: int
    s_map: np.ndarray | None          # int8[256]: the MUL on the scores, or None
    sm_multiplier: int                # softmax input_multiplier
    sm_left_shift: int
    sm_diff_min: int
    exp_lut: np.ndarray = field(repr=False)   # int32[256]: exp of diff -d in Q0.31, 0 if -d < diff_min
    pv_rhs_zp: int = 0                # zero point of v
    pv_multiplier: int = 0
    pv_shift: int = 0
    pv_out_zp: int = 0


def _bmm_multiplier(lhs: TensorQuant, rhs: TensorQuant, out: TensorQuant) -> tuple[int, int]:
    # GetQuantizedConvolutionMultipler: the scale product is taken in float32
    product = float(np.float32(lhs.scale) * np.float32(rhs.scale))
    return fp.quantize_multiplier(product / out.scale)


def const_mul_map(x_q: TensorQuant, mul: ConstMul) -> np.ndarray:
    """The 256-entry int8 table of ``MUL(x, const)`` (TFLM reference int8 MUL)."""
    real = float(x_q.scale) * float(mul.const_q.scale) / float(mul.out.scale)   # in double
    m, s = fp.quantize_multiplier(real)
    x = np.arange(-128, 128, dtype=np.int64)
    prod = (x - x_q.zero_point) * (int(mul.const) - mul.const_q.zero_point)
    y = mul.out.zero_point + fp.multiply_by_quantized_multiplier(prod, m, s)
    return np.clip(y, -128, 127).astype(np.int8)


def make_params(qt: AttentionQuant) -> AttentionParams:
    """What TFLM's Prepare functions compute for the subgraph, as one struct."""
    q_lhs = qt.q
    q_map = None
    if qt.q_mul is not None:
        q_map = const_mul_map(qt.q, qt.q_mul)
        q_lhs = qt.q_mul.out
    qk_m, qk_s = _bmm_multiplier(q_lhs, qt.k, qt.scores)
    s_in = qt.scores
    s_map = None
    if qt.score_mul is not None:
        s_map = const_mul_map(qt.scores, qt.score_mul)
        s_in = qt.score_mul.out
    beta = float(np.float32(qt.softmax_beta))
    sm_m, sm_ls = fp.preprocess_softmax_scaling(beta, s_in.scale, EXP_INTEGER_BITS)
    if sm_ls > 30:
        raise ValueError(f"softmax input scale {s_in.scale} too large (left shift {sm_ls} > 30)")
    diff_min = -fp.calculate_input_radius(EXP_INTEGER_BITS, sm_ls)
    d = -np.arange(256, dtype=np.int64)
    rescaled = fp.multiply_by_quantized_multiplier_gt_one(d, sm_m, sm_ls)
    exp_lut = np.where(d >= diff_min, fp.exp_on_negative_values(rescaled, EXP_INTEGER_BITS), 0)
    p_q = TensorQuant(SOFTMAX_OUT_SCALE, SOFTMAX_OUT_ZP)
    pv_m, pv_s = _bmm_multiplier(p_q, qt.v, qt.out)
    return AttentionParams(
        q_map=q_map, qk_lhs_zp=q_lhs.zero_point, qk_rhs_zp=qt.k.zero_point,
        qk_multiplier=qk_m, qk_shift=qk_s, qk_out_zp=qt.scores.zero_point, s_map=s_map,
        sm_multiplier=sm_m, sm_left_shift=sm_ls, sm_diff_min=diff_min,
        exp_lut=exp_lut.astype(np.int32), pv_rhs_zp=qt.v.zero_point,
        pv_multiplier=pv_m, pv_shift=pv_s, pv_out_zp=qt.out.zero_point)


def _requant(acc, multiplier: int, shift: int, zp: int) -> np.ndarray:
    return np.clip(fp.multiply_by_quantized_multiplier(acc, multiplier, shift) + zp, -128, 127)


def window_bounds(tq: int, tk: int, window: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive key range ``[lo_i, hi_i]`` of each query row."""
    i = np.arange(tq)
    if window is None:
        return np.zeros(tq, np.int64), np.full(tq, tk - 1, np.int64)
    left, right = window
    if left < 0 or right < 0:
        raise ValueError(f"window sides must be >= 0, got {window}")
    lo = np.clip(i - left, 0, tk)
    hi = np.clip(i + right, -1, tk - 1)
    return lo, hi


def scores_ref(q: np.ndarray, k: np.ndarray, p: AttentionParams) -> np.ndarray:
    """int8 scores ``[H, Tq, Tk]``: (MUL) → BATCH_MATMUL → (MUL)."""
    q = np.asarray(q, np.int64)
    if p.q_map is not None:
        q = p.q_map.astype(np.int64)[q + 128]
    acc = np.einsum("htd,hsd->hts", q - p.qk_lhs_zp, np.asarray(k, np.int64) - p.qk_rhs_zp)
    s = _requant(acc, p.qk_multiplier, p.qk_shift, p.qk_out_zp)
    if p.s_map is not None:
        s = p.s_map.astype(np.int64)[s + 128]
    return s


def softmax_ref(s: np.ndarray, p: AttentionParams, valid: np.ndarray | None = None) -> np.ndarray:
    """TFLM int8 softmax over the last axis (``valid`` masks keys out), output int8 (1/256, -128)."""
    s = np.asarray(s, np.int64)
    if valid is None:
        valid = np.ones(s.shape, bool)
    mx = np.max(np.where(valid, s, -1 << 40), axis=-1, keepdims=True)
    diff = s - mx
    use = valid & (diff >= p.sm_diff_min)
    rescaled = fp.multiply_by_quantized_multiplier_gt_one(np.where(use, diff, 0), p.sm_multiplier, p.sm_left_shift)
    e = np.where(use, fp.exp_on_negative_values(rescaled, EXP_INTEGER_BITS), 0)
    total = np.sum(fp.rdbpot(e, ACCUM_INTEGER_BITS), axis=-1, keepdims=True)
    if np.any(total > fp.INT32_MAX):
        raise ValueError("softmax row too long: sum of exponentials overflows int32")
    scale, bits_over_unit = fp.get_reciprocal(total, ACCUM_INTEGER_BITS)
    exponent = bits_over_unit + 31 - 8           # > 31 only where TFLM would abort (see module doc)
    unsat = fp.rdbpot(fp.srdhm(scale, e), exponent)
    out = np.clip(unsat + SOFTMAX_OUT_ZP, -128, 127)
    return np.where(use, out, -128)


def softmax_exponent(s: np.ndarray, p: AttentionParams) -> np.ndarray:
    """Per row, the final shift TFLM's int8 softmax uses (it aborts when > 31)."""
    s = np.asarray(s, np.int64)
    diff = s - s.max(axis=-1, keepdims=True)
    use = diff >= p.sm_diff_min
    e = np.where(use, fp.exp_on_negative_values(
        fp.multiply_by_quantized_multiplier_gt_one(np.where(use, diff, 0), p.sm_multiplier, p.sm_left_shift)), 0)
    total = np.sum(fp.rdbpot(e, ACCUM_INTEGER_BITS), axis=-1)
    return ACCUM_INTEGER_BITS - fp.count_leading_zeros_u32(total) + 23


def attention_ref(q: np.ndarray, k: np.ndarray, v: np.ndarray, p: AttentionParams,
                  window: tuple[int, int] | None = None, return_probs: bool = False):
    """Fused attention, ``q [H, Tq, dk]``, ``k, v [H, Tk, dk]`` int8 → ``[H, Tq, dk]`` int8."""
    q, k, v = (np.asarray(a) for a in (q, k, v))
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a.dtype != np.int8 or a.ndim != 3:
            raise ValueError(f"{name} must be an int8 [H, T, dk] array, got {a.dtype} {a.shape}")
    h, tq, dk = q.shape
    if k.shape[0] != h or k.shape[2] != dk or v.shape != k.shape:
        raise ValueError(f"shape mismatch: q {q.shape}, k {k.shape}, v {v.shape}")
    tk = k.shape[1]
    if not 1 <= tk <= MAX_KV_LEN:
        raise ValueError(f"key length {tk} outside 1..{MAX_KV_LEN}")
    s = scores_ref(q, k, p)
    lo, hi = window_bounds(tq, tk, window)
    j = np.arange(tk)
    valid = (j[None, :] >= lo[:, None]) & (j[None, :] <= hi[:, None])
    probs = softmax_ref(s, p, np.broadcast_to(valid, s.shape))
    acc = np.einsum("hts,hsd->htd", probs - SOFTMAX_OUT_ZP, v.astype(np.int64) - p.pv_rhs_zp)
    out = _requant(acc, p.pv_multiplier, p.pv_shift, p.pv_out_zp).astype(np.int8)
    return (out, probs.astype(np.int8)) if return_probs else out

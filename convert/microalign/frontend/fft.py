"""Fixed-point real FFT power spectrum: steps 2-4 of the ``"fft"`` frontend definition.

The C frontend (``tflm_app/frontend/ma_frontend.c``) computes exactly these integers; every
rounding is stated here, so the C code may reorder the exact integer additions freely but
not the roundings. Numbers are int32 in C (64-bit products); here numpy int32 arrays for the
sums (exact: they stay below ``2**30``) and int64 for the products, vectorised over frames.

For one frame ``x[0..WIN)`` (int16) and ``N_FFT = 512``:

1. Window and pack (Q9: the windowed sample times ``2**9``), ``m < 256``:
   ``z[m] = (x[2m] * WINDOW_Q15[2m] + 2**5) >> 6  +  i * (x[2m+1] * WINDOW_Q15[2m+1] + 2**5) >> 6``,
   zero where ``2m >= WIN``.
2. 256-point complex FFT, radix-4 decimation in time, digit-reversed input, four stages.
   Stage 1 (blocks of 4, no twiddles, no scaling): block ``p`` (entries ``4p .. 4p+3``) is
   ``DFT4(z[j], z[j+64], z[j+128], z[j+192])`` with ``j = DIGIT_REV_64[p]``.
   Stages s = 2, 3, 4 (blocks of ``L = 4**s``, ``Q = L/4``; ``a, b, c, d`` are entries ``k``,
   ``k+Q``, ``k+2Q``, ``k+3Q`` of a block): ``a' = a >> 1``, ``b' = cmul(b, W[k])``,
   ``c' = cmul(c, W[2k])``, ``d' = cmul(d, W[3k])`` with the Q31 twiddles ``W[m] =
   exp(-2 pi i m / L)`` (:data:`STAGE_TWIDDLES_Q31`), then ``DFT4(a', b', c', d')``, where
   ``DFT4(a, b, c, d) = (a+b+c+d, (a-c) - i(b-d), a-b+c-d, (a-c) + i(b-d))`` (exact).
   ``cmul(b, w)`` is half the complex product, rounded per partial product as the
   Cortex-M7's SMMULR / SMMLSR / SMMLAR do:
   ``re = hr(br*wr) + hn(bi*wi)``, ``im = hr(br*wi) + hr(bi*wr)``, with
   ``hr(p) = (p + 2**31) >> 32`` and ``hn(p) = (2**31 - p) >> 32``.
   Each twiddled stage halves, so ``Z = 2**6 * FFT256(xw_even + i xw_odd)`` (plus rounding).
3. Real spectrum, ``X = 2**6 * DFT512(xw)``: ``X[0] = Zr[0] + Zi[0]``, ``X[256] = Zr[0] - Zi[0]``,
   ``X[128] = (Zr[128], -Zi[128])``; for ``0 < k < 128`` with ``A = Z[k]``, ``B = Z[256-k]``:
   ``E2 = (Ar + Br, Ai - Bi)``, ``O2 = (Ai + Bi, Br - Ar)``, ``T = cmul(O2, V[k])`` with
   ``V[k] = exp(-2 pi i k / 512)`` in Q31 (:data:`SPLIT_TWIDDLES_Q31`), ``E = E2 >> 1``
   (per component); ``X[k] = E + T`` and ``X[256-k] = conj(E - T)``.
4. Power: ``p[k] = (Xr**2 + Xi**2) >> POWER_SHIFT`` (``POWER_SHIFT = 16``), the same scale
   as the ``"dft"`` definition (``|DFT512(xw)|**2 / 16``).

Bounds (checked in tests/test_frontend.py from the tables): every intermediate component
stays below ``2**30`` in magnitude, so no int32 addition in C overflows; ``p < 2**44``.
"""
from __future__ import annotations

import numpy as np

M = 256                 # complex FFT length (N_FFT / 2)
WINDOW_SHIFT = 6        # z = (x * WINDOW_Q15 + 2**5) >> 6: the windowed sample in Q9
POWER_SHIFT = 16        # p = (Xr^2 + Xi^2) >> 16 = |DFT512(xw)|^2 / 16
STAGES = ((16, 4), (64, 16), (256, 64))   # (block length L, quarter Q) of the twiddled stages
_Q31_MAX = (1 << 31) - 1


def _q31(v: np.ndarray) -> np.ndarray:
    return np.clip(np.round(v * 2.0**31), -2**31, _Q31_MAX).astype(np.int64)


def _digit_reverse4(n_digits: int) -> np.ndarray:
    idx = np.arange(4 ** n_digits)
    out = np.zeros_like(idx)
    v = idx.copy()
    for _ in range(n_digits):
        out = out * 4 + v % 4
        v //= 4
    return out


DIGIT_REV_256 = _digit_reverse4(4)   # buffer position i holds z[DIGIT_REV_256[i]]
# Stage 1 block p holds DFT4 of z[j + 64 r], j = DIGIT_REV_64[p] (three base-4 digits reversed).
DIGIT_REV_64 = _digit_reverse4(3)


def _stage_twiddles() -> list[np.ndarray]:
    """Per twiddled stage: int64 [Q, 3, 2] = (W^k, W^2k, W^3k) x (re, im) in Q31, W = exp(-2 pi i / L)."""
    out = []
    for L, Q in STAGES:
        ang = -2.0 * np.pi * np.arange(Q)[:, None] * np.arange(1, 4)[None, :] / L
        out.append(np.stack([_q31(np.cos(ang)), _q31(np.sin(ang))], axis=-1))
    return out


STAGE_TWIDDLES_Q31 = _stage_twiddles()
# V[k] = exp(-2 pi i k / 512), k = 0..127 (entry 0 unused): int64 [128, 2].
_ang = -2.0 * np.pi * np.arange(M // 2) / (2 * M)
SPLIT_TWIDDLES_Q31 = np.stack([_q31(np.cos(_ang)), _q31(np.sin(_ang))], axis=-1)


def _hr(p: np.ndarray) -> np.ndarray:
    return (p + (1 << 31)) >> 32


def _hn(p: np.ndarray) -> np.ndarray:
    return ((1 << 31) - p) >> 32


def cmul_half(br, bi, wr, wi):
    """Half the complex product b * w (w in Q31), rounded as SMMULR + SMMLSR / SMMLAR."""
    return _hr(br * wr) + _hn(bi * wi), _hr(br * wi) + _hr(bi * wr)


def window_pack(frames: np.ndarray, window_q15: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step 1: [T, WIN] int frames -> (zr, zi) int64 [256, T] (natural order, frames last)."""
    frames = np.asarray(frames)
    t, win = frames.shape
    if win % 2 or win > 2 * M:
        raise ValueError(f"frame length {win} must be even and at most {2 * M}")
    # |x w| <= 32768 * 32767 < 2^30: int32 is exact
    xw = (frames.T.astype(np.int32) * window_q15.astype(np.int32)[:, None]
          + (1 << (WINDOW_SHIFT - 1))) >> WINDOW_SHIFT
    zr = np.zeros((M, t), np.int32)      # |z| < 2^24; every FFT sum stays below 2^30 (int32 is exact)
    zi = np.zeros((M, t), np.int32)
    zr[:win // 2] = xw[0::2]
    zi[:win // 2] = xw[1::2]
    return zr, zi


def _trace(trace: list | None, name: str, *arrays) -> None:
    """Record the largest magnitude among arrays (the int32 headroom check of the tests)."""
    if trace is not None:
        trace.append((name, max(int(np.abs(a).max(initial=0)) for a in arrays)))


def _dft4_into(out_r: np.ndarray, out_i: np.ndarray, ar, ai, br, bi, cr, ci, dr, di, trace=None) -> None:
    """DFT4 of (a, b, c, d) written to out[:, 0..3] (out: [G, 4, Q, T])."""
    s0r, s0i, s1r, s1i = ar + cr, ai + ci, ar - cr, ai - ci
    s2r, s2i, s3r, s3i = br + dr, bi + di, br - dr, bi - di
    _trace(trace, "butterfly inputs", ar, ai, br, bi, cr, ci, dr, di)
    _trace(trace, "butterfly sums", s0r, s0i, s1r, s1i, s2r, s2i, s3r, s3i)
    np.add(s0r, s2r, out=out_r[:, 0])
    np.add(s0i, s2i, out=out_i[:, 0])
    np.add(s1r, s3i, out=out_r[:, 1])
    np.subtract(s1i, s3r, out=out_i[:, 1])
    np.subtract(s0r, s2r, out=out_r[:, 2])
    np.subtract(s0i, s2i, out=out_i[:, 2])
    np.subtract(s1r, s3i, out=out_r[:, 3])
    np.add(s1i, s3r, out=out_i[:, 3])


def fft256(zr: np.ndarray, zi: np.ndarray, trace: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Step 2: (zr, zi) [256, T] natural order -> Z [256, T] natural order (the fixed-point FFT).

    ``trace``: a list to which (what, largest magnitude) pairs of the intermediates are appended."""
    t = zr.shape[1]
    # Digit-reversed buffer; stage 1 = DFT4 over the 4 entries of each block.
    vr = zr[DIGIT_REV_256].reshape(M // 4, 4, 1, t)
    vi = zi[DIGIT_REV_256].reshape(M // 4, 4, 1, t)
    re = np.empty((M // 4, 4, 1, t), np.int32)
    im = np.empty((M // 4, 4, 1, t), np.int32)
    _dft4_into(re, im, *(v for q in range(4) for v in (vr[:, q], vi[:, q])), trace=trace)
    for (L, Q), tw in zip(STAGES, STAGE_TWIDDLES_Q31):
        vr = re.reshape(M // L, 4, Q, t)
        vi = im.reshape(M // L, 4, Q, t)
        _trace(trace, f"stage {L} inputs", vr, vi)
        parts = [vr[:, 0] >> 1, vi[:, 0] >> 1]
        for q in range(1, 4):     # products in int64, the halved results back to int32
            parts += [v.astype(np.int32) for v in cmul_half(vr[:, q].astype(np.int64), vi[:, q].astype(np.int64),
                                                             tw[:, q - 1, 0, None], tw[:, q - 1, 1, None])]
        re = np.empty((M // L, 4, Q, t), np.int32)
        im = np.empty((M // L, 4, Q, t), np.int32)
        _dft4_into(re, im, *parts, trace=trace)
    _trace(trace, "Z", re, im)
    return re.reshape(M, t), im.reshape(M, t)


def real_spectrum(zr: np.ndarray, zi: np.ndarray, trace: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Step 3: Z [256, T] -> X [257, T] (bins 0..256 of the 512-point real FFT, times 2**6)."""
    t = zr.shape[1]
    zr, zi = zr.astype(np.int64), zi.astype(np.int64)
    xr = np.empty((M + 1, t), np.int64)
    xi = np.empty((M + 1, t), np.int64)
    xr[0], xi[0] = zr[0] + zi[0], 0
    xr[M], xi[M] = zr[0] - zi[0], 0
    xr[M // 2], xi[M // 2] = zr[M // 2], -zi[M // 2]
    h = M // 2
    ar, ai = zr[1:h], zi[1:h]
    br, bi = zr[M - 1:h:-1], zi[M - 1:h:-1]          # Z[256 - k], k = 1..127
    er, ei = (ar + br) >> 1, (ai - bi) >> 1
    tr, ti = cmul_half(ai + bi, br - ar, SPLIT_TWIDDLES_Q31[1:, 0, None], SPLIT_TWIDDLES_Q31[1:, 1, None])
    xr[1:h], xi[1:h] = er + tr, ei + ti
    xr[M - 1:h:-1], xi[M - 1:h:-1] = er - tr, ti - ei
    _trace(trace, "split sums", ar + br, ai - bi, ai + bi, br - ar)
    _trace(trace, "X", xr, xi, zr[0] + zi[0], zr[0] - zi[0])
    return xr, xi


def power_spectrum(frames: np.ndarray, window_q15: np.ndarray, trace: list | None = None) -> np.ndarray:
    """Steps 1-4: [T, WIN] int frames -> [T, 257] int64 power (``trace``: see :func:`fft256`)."""
    zr, zi = window_pack(frames, window_q15)
    _trace(trace, "z", zr, zi)
    xr, xi = real_spectrum(*fft256(zr, zi, trace), trace)
    return ((xr * xr + xi * xi) >> POWER_SHIFT).T

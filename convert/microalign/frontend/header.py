"""Writes ``microalign_frontend_config.h``: every constant and table of :mod:`.features` for the C frontend.

The header is committed under ``tflm_app/generated/`` so the firmware builds
without Python; ``tests/test_frontend.py`` checks that regenerating it gives
the same bytes. Layout of the header:

* ``MA_FE_*`` macros: the scalar constants (``SAMPLE_RATE``, ``HOP``, ``WIN``,
  ``PAD_LEFT``, ``N_FFT``, ``N_BINS``, ``N_MELS``, the shifts, ``LOG_OFFSET``,
  ``FEAT_MUL``, ``FEAT_SHIFT``).
* Under ``#ifdef MA_FE_DEFINE_TABLES`` (one .c file defines it):
  ``MA_FE_WINDOW_Q15[WIN]``, ``MA_FE_COS_Q15[N_FFT]``, ``MA_FE_SIN_Q15[N_FFT]``,
  ``MA_FE_LOG2_LUT[256]`` (int16).
* The mel matrix in sparse form: filter ``j`` has weights
  ``MA_FE_MEL_WEIGHTS_Q12[MA_FE_MEL_OFFSET[j] + i]`` for bins
  ``MA_FE_MEL_FIRST_BIN[j] + i``, ``i < MA_FE_MEL_COUNT[j]`` (zeros trimmed at
  both ends only, so the product equals the dense ``MEL_Q12`` one; every
  weight in [0, 4096], which the C mel sum relies on).
* ``MA_FE_DEFINITION_FFT``: 1 when ``features.DEFINITION == "fft"`` (overridable
  with ``-D``), and the tables of :mod:`.fft`: ``MA_FE_FFT_REV64`` (stage-1
  digit reversal), ``MA_FE_FFT_TWIDDLES_Q31`` (stages 2-4) and
  ``MA_FE_FFT_SPLIT_Q31`` (the real-spectrum split), with the shifts
  ``MA_FE_FFT_WINDOW_SHIFT`` and ``MA_FE_FFT_POWER_SHIFT``.

The C DFT folds the input using four identities of the rounded trig tables
(checked here; :func:`render` refuses tables without them):
``T[(m+256) % 512] == -T[m]`` for both tables, ``COS[-m] == COS[m]`` and
``SIN[-m] == -SIN[m]`` (indices mod 512).

Usage: ``python -m microalign.frontend.header --out tflm_app/generated``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cheader import generator_main, write_text
from . import features as F
from . import fft as FFT

FILENAME = "microalign_frontend_config.h"
GENERATOR = "microalign.frontend.header"


def check_trig_symmetry(cos_q15: np.ndarray = F.COS_Q15, sin_q15: np.ndarray = F.SIN_Q15) -> None:
    """Raise ``ValueError`` unless the tables have the symmetries the C DFT relies on."""
    c = np.asarray(cos_q15, dtype=np.int64)
    s = np.asarray(sin_q15, dtype=np.int64)
    n = len(c)
    m = np.arange(n)
    checks = {
        "COS[m+N/2] == -COS[m]": c[(m + n // 2) % n] == -c,
        "SIN[m+N/2] == -SIN[m]": s[(m + n // 2) % n] == -s,
        "COS[-m] == COS[m]": c[(-m) % n] == c,
        "SIN[-m] == -SIN[m]": s[(-m) % n] == -s,
    }
    bad = [name for name, ok in checks.items() if not ok.all()]
    if bad:
        raise ValueError(f"trig tables lack the symmetries the C DFT folds with: {', '.join(bad)}")


def sparse_mel(mel_q12: np.ndarray = F.MEL_Q12) -> tuple[list[int], list[int], list[int], list[int]]:
    """(first_bin, count, offset, weights) per filter; zeros trimmed at both ends of each row."""
    first, count, offset, weights = [], [], [], []
    for j, row in enumerate(np.asarray(mel_q12)):
        nz = np.flatnonzero(row)
        if len(nz) == 0:
            raise ValueError(f"mel filter {j} has no non-zero weight")
        if row.min() < 0 or row.max() > 4096:
            raise ValueError(f"mel filter {j} has weights outside [0, 4096]: {row.min()}..{row.max()}")
        lo, hi = int(nz[0]), int(nz[-1]) + 1
        first.append(lo)
        count.append(hi - lo)
        offset.append(len(weights))
        weights.extend(int(w) for w in row[lo:hi])
    return first, count, offset, weights


def _array(ctype: str, name: str, values, per_line: int = 12) -> str:
    vals = [str(int(v)) for v in values]
    width = max(len(v) for v in vals)
    lines = [", ".join(v.rjust(width) for v in vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(vals)}] = {{\n    {body}\n}};\n"


def render() -> str:
    """The header text (deterministic: no dates, no paths)."""
    check_trig_symmetry()
    first, count, offset, weights = sparse_mel()
    defines = [
        ("SAMPLE_RATE", F.SAMPLE_RATE, "Hz"),
        ("HOP", F.HOP, "samples between frames (10 ms)"),
        ("WIN", F.WIN, "samples per frame (25 ms)"),
        ("PAD_LEFT", F.PAD_LEFT, "frame t starts at sample t*HOP - PAD_LEFT (zeros outside the signal)"),
        ("N_FFT", F.N_FFT, "DFT length (WIN samples zero-padded)"),
        ("N_BINS", F.N_BINS, "DFT bins 0..N_FFT/2"),
        ("N_MELS", F.N_MELS, "features per frame"),
        ("DFT_SHIFT", F.DFT_SHIFT, "re' = (re + 2^(DFT_SHIFT-1)) >> DFT_SHIFT"),
        ("POWER_SHIFT", F.POWER_SHIFT, "p = (re'^2 + im'^2) >> POWER_SHIFT"),
        ("LOG_OFFSET", F.LOG_OFFSET, "Q8 log2 of the mel energy mapped to -128"),
        ("FEAT_MUL", F.FEAT_MUL, "q = ((L - LOG_OFFSET) * FEAT_MUL + 2^(FEAT_SHIFT-1)) >> FEAT_SHIFT"),
        ("FEAT_SHIFT", F.FEAT_SHIFT, ""),
        ("MEL_NNZ", len(weights), "stored mel weights (sparse form)"),
        ("FFT_WINDOW_SHIFT", FFT.WINDOW_SHIFT, "\"fft\": z = (x * WINDOW_Q15 + 2^(SHIFT-1)) >> SHIFT (Q9)"),
        ("FFT_POWER_SHIFT", FFT.POWER_SHIFT, "\"fft\": p = (Xr^2 + Xi^2) >> FFT_POWER_SHIFT"),
    ]
    width = max(len(n) for n, _, _ in defines)
    out = [
        "/* microalign_frontend_config.h: constants and tables of the fixed-point log-mel frontend.",
        f" * generated by {GENERATOR} from microalign/frontend/features.py -- do not edit.",
        " * Regenerate: python -m microalign.frontend.header --out tflm_app/generated",
        " *",
        " * The MA_FE_* macros are always visible; the `static const` tables only where",
        " * MA_FE_DEFINE_TABLES is defined before the include (ma_frontend.c).",
        " * Mel filter j: weight MA_FE_MEL_WEIGHTS_Q12[MA_FE_MEL_OFFSET[j] + i] applies to bin",
        " * MA_FE_MEL_FIRST_BIN[j] + i, for i < MA_FE_MEL_COUNT[j]; all other bins weigh 0.",
        " * The trig tables satisfy T[(m+256)%512] == -T[m], COS[-m] == COS[m], SIN[-m] == -SIN[m]",
        " * (checked by the generator): the C DFT folds its input with these identities.",
        " */",
        "#ifndef MICROALIGN_FRONTEND_CONFIG_H",
        "#define MICROALIGN_FRONTEND_CONFIG_H",
        "",
        "#include <stdint.h>",
        "",
    ]
    for name, value, comment in defines:
        line = f"#define MA_FE_{name.ljust(width)} {str(int(value)).ljust(5)}"
        out.append(f"{line}  /* {comment} */" if comment else line)
    out += [
        "",
        f"/* Power-spectrum definition (features.DEFINITION = {F.DEFINITION!r}): 1 = the fixed-point FFT",
        " * (features/fft.py), 0 = the direct Q15 DFT. A build may override it with -DMA_FE_DEFINITION_FFT=0/1",
        " * to match features_from_pcm(..., definition=...). */",
        "#ifndef MA_FE_DEFINITION_FFT",
        f"#define MA_FE_DEFINITION_FFT {int(F.DEFINITION == 'fft')}",
        "#endif",
        "", "#ifdef MA_FE_DEFINE_TABLES", ""]
    text = "\n".join(out) + "\n"
    text += _array("int16_t", "MA_FE_WINDOW_Q15", F.WINDOW_Q15) + "\n"
    text += _array("int16_t", "MA_FE_COS_Q15", F.COS_Q15) + "\n"
    text += _array("int16_t", "MA_FE_SIN_Q15", F.SIN_Q15) + "\n"
    text += _array("uint16_t", "MA_FE_MEL_FIRST_BIN", first) + "\n"
    text += _array("uint16_t", "MA_FE_MEL_COUNT", count) + "\n"
    text += _array("uint16_t", "MA_FE_MEL_OFFSET", offset) + "\n"
    text += _array("int16_t", "MA_FE_MEL_WEIGHTS_Q12", weights) + "\n"
    text += _array("int16_t", "MA_FE_LOG2_LUT", F.LOG2_LUT, per_line=16) + "\n"
    text += ("/* \"fft\": stage-1 block p of the 256-point FFT takes z[MA_FE_FFT_REV64[p] + 64 r], r < 4. */\n"
             + _array("uint8_t", "MA_FE_FFT_REV64", FFT.DIGIT_REV_64, per_line=16) + "\n")
    tw = np.concatenate([t.reshape(-1) for t in FFT.STAGE_TWIDDLES_Q31])
    offs = np.cumsum([0] + [t.size for t in FFT.STAGE_TWIDDLES_Q31])[:-1]
    text += ("/* \"fft\": twiddles of stages 2, 3, 4 (blocks of L = 16, 64, 256), from offset "
             f"{', '.join(str(int(o)) for o in offs)}:\n"
             " * entry k of a stage is re, im of W^k, W^2k, W^3k, W = exp(-2 pi i / L), Q31 (1 -> 2^31 - 1). */\n"
             + _array("int32_t", "MA_FE_FFT_TWIDDLES_Q31", tw, per_line=6) + "\n")
    text += ("/* \"fft\": real-spectrum split, entry k = re, im of exp(-2 pi i k / 512), Q31 (k = 0 unused). */\n"
             + _array("int32_t", "MA_FE_FFT_SPLIT_Q31", FFT.SPLIT_TWIDDLES_Q31.reshape(-1), per_line=8) + "\n")
    text += "#endif /* MA_FE_DEFINE_TABLES */\n#endif /* MICROALIGN_FRONTEND_CONFIG_H */\n"
    return text


def write_header(out_dir: str | Path) -> Path:
    """Write :data:`FILENAME` into ``out_dir`` (created if needed); returns its path."""
    return write_text(out_dir, FILENAME, render())


def main(argv: list[str] | None = None) -> int:
    return generator_main(GENERATOR, __doc__, write_header, argv)


if __name__ == "__main__":
    raise SystemExit(main())

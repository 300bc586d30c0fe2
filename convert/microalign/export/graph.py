"""The student rewritten for export: the same function, in operations TFLite Micro runs in int8.

:class:`ExportAligner` takes a trained :class:`~microalign.model.StudentAligner`,
folds its BatchNorms (:meth:`StudentAligner.fuse`) and re-expresses what the
training graph does in shapes TFLM accepts:

- no rank-5 tensors: the training attention views ``qkv`` as ``[B, T, 3, H, dk]``
  and slices it, which becomes a rank-5 STRIDED_SLICE that TFLM rejects
  ("input dim should not exceed 4");
- the fused ``qkv`` projection is split into three Linear layers, so q, k and
  v each get their own int8 scale instead of sharing one;
- the attention scale ``dk ** -0.5`` is folded into the q projection (one MUL
  and one requantisation fewer);
- the depthwise positional Conv1d runs as a Conv2d over ``[B, C, 1, T]``:
  onnx2tf turns a rank-3 grouped convolution into a grouped CONV_2D, a rank-4
  one into DEPTHWISE_CONV_2D (the op with optimised CMSIS-NN kernels);
- ``attention="per_head"`` (the default) computes each head on its own
  ``[T/2, T/2]`` score matrix and sums the heads' share of the output
  projection, so only one head's scores are alive at a time: the TFLM arena
  holds 2 × (T/2)² bytes of scores instead of 2 × H × (T/2)², and the graph
  needs no TRANSPOSE; ``attention="batched"`` keeps all heads in one rank-3
  BATCH_MATMUL (measured on the default config: 568 KB arena against 363 KB).

TFLM's BATCH_MATMUL keeps a persistent transposed copy of its right operand
unless that operand comes transposed (``adj_y``): q·kᵀ does, att·v does
not, which costs (T/2)·dk bytes of persistent arena per head and layer.

The batch size is fixed at 1 (the device runs one window at a time).
:func:`check_equivalence` verifies the rewrite against the training model.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..model.student import Attention, StudentAligner, downsample

ATTENTION_MODES = ("per_head", "batched")


def _linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    lin = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        lin.weight.copy_(weight)
        lin.bias.copy_(bias)
    return lin


class _ExportAttention(nn.Module):
    def __init__(self, att: Attention, mode: str) -> None:
        super().__init__()
        if mode not in ATTENTION_MODES:
            raise ValueError(f"attention mode must be one of {ATTENTION_MODES}, got {mode!r}")
        self.mode, self.h, self.dk = mode, att.h, att.dk
        d = att.h * att.dk
        w, b = att.qkv.weight.detach(), att.qkv.bias.detach()
        s = att.dk ** -0.5
        wq, bq = w[:d] * s, b[:d] * s
        wk, bk, wv, bv = w[d:2 * d], b[d:2 * d], w[2 * d:], b[2 * d:]
        wo, bo = att.out.weight.detach(), att.out.bias.detach()
        if mode == "batched":
            self.q, self.k, self.v = _linear(wq, bq), _linear(wk, bk), _linear(wv, bv)
            self.out = _linear(wo, bo)
        else:
            rows = [slice(i * self.dk, (i + 1) * self.dk) for i in range(self.h)]
            self.q = nn.ModuleList(_linear(wq[r], bq[r]) for r in rows)
            self.k = nn.ModuleList(_linear(wk[r], bk[r]) for r in rows)
            self.v = nn.ModuleList(_linear(wv[r], bv[r]) for r in rows)
            # out(y) = sum_i y_i @ Wo[:, head i]^T + bo; the bias rides on head 0
            self.out = nn.ModuleList(_linear(wo[:, r], bo if i == 0 else torch.zeros_like(bo))
                                     for i, r in enumerate(rows))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [1, T, d]
        t = x.shape[1]
        if self.mode == "batched":
            q = self.q(x).reshape(t, self.h, self.dk).transpose(0, 1)       # [H, T, dk]
            k = self.k(x).reshape(t, self.h, self.dk).permute(1, 2, 0)      # [H, dk, T]
            v = self.v(x).reshape(t, self.h, self.dk).transpose(0, 1)       # [H, T, dk]
            att = torch.softmax(q @ k, dim=-1)                             # [H, T, T]
            y = (att @ v).transpose(0, 1).reshape(1, t, self.h * self.dk)
            return self.out(y)
        out = None
        for i in range(self.h):
            att = torch.softmax(self.q[i](x) @ self.k[i](x).transpose(1, 2), dim=-1)   # [1, T, T]
            yi = self.out[i](att @ self.v[i](x))                                      # [1, T, d]
            out = yi if out is None else out + yi
        return out


class _ExportBlock(nn.Module):
    def __init__(self, blk: nn.Module, mode: str) -> None:
        super().__init__()
        if not (isinstance(blk.norm1, nn.Identity) and isinstance(blk.norm2, nn.Identity)):
            raise ValueError("export needs a fused model (StudentAligner.fuse())")
        self.attn = _ExportAttention(blk.attn, mode)
        self.ff1, self.ff2 = blk.ff1, blk.ff2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        return x + self.ff2(F.relu(self.ff1(x)))


def _conv1d_as_2d(conv: nn.Conv1d) -> nn.Conv2d:
    """The same convolution over a [B, C, 1, T] tensor."""
    c2 = nn.Conv2d(conv.in_channels, conv.out_channels, (1, conv.kernel_size[0]), stride=(1, conv.stride[0]),
                   padding=(0, conv.padding[0]), groups=conv.groups, bias=conv.bias is not None)
    with torch.no_grad():
        c2.weight.copy_(conv.weight[:, :, None, :])
        if conv.bias is not None:
            c2.bias.copy_(conv.bias)
    return c2


class ExportAligner(nn.Module):
    """Fused, batch-1 student in TFLM-friendly operations (same function as the training model).

    Input ``[1, window, n_mels]`` float (int8 feature × INPUT_SCALE), output
    ``[1, window, n_tokens]`` log-probabilities.
    """

    def __init__(self, model: StudentAligner, attention: str = "per_head") -> None:
        super().__init__()
        fused = model.fuse()
        self.cfg = fused.cfg
        self.attention = attention
        self.stem, self.down, self.down2 = fused.stem, fused.down, fused.down2
        self.pos = _conv1d_as_2d(fused.pos)     # rank 4: onnx2tf makes DEPTHWISE_CONV_2D, not a grouped CONV_2D
        self.blocks = nn.ModuleList(_ExportBlock(b, attention) for b in fused.blocks)
        self.up, self.skip, self.head = fused.up, fused.skip, fused.head
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.cfg.window
        s = F.relu(self.stem(x.transpose(1, 2)))             # [1, stem, T]
        h = downsample(self, s)                              # [1, d, T/ds]
        h = (h + self.pos(h.unsqueeze(2)).squeeze(2)).transpose(1, 2)   # [1, T/ds, d]
        for blk in self.blocks:
            h = blk(h)
        u = self.up(h).reshape(1, t, self.cfg.d_out)
        y = F.relu(u + self.skip(s.transpose(1, 2)))
        return F.log_softmax(self.head(y), dim=-1)


@torch.no_grad()
def check_equivalence(model: StudentAligner, export: ExportAligner, inputs: torch.Tensor,
                      atol: float = 1e-3) -> float:
    """Max |difference| of the log-probs of the training model and its export form on ``inputs`` [N, W, F].

    Raises ``ValueError`` when it exceeds ``atol`` (the rewrite is only float
    re-association and must agree to rounding).
    """
    model = model.eval()
    err = 0.0
    for x in inputs:
        a = model(x[None])
        b = export(x[None])
        err = max(err, float((a - b).abs().max()))
    if err > atol:
        raise ValueError(f"export graph differs from the model by {err:.3g} (> {atol}): the rewrite is wrong")
    return err

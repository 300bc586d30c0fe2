"""The student acoustic model: int8 frame scores over the character token table.

Built for a Cortex-M7 running TFLite Micro in full int8:

- fixed input window of ``window`` 10 ms frames × ``N_MELS`` (static shapes);
- only operations that become int8 TFLite builtins: Conv1d (→ CONV_2D),
  depthwise Conv1d, Linear (→ FULLY_CONNECTED), ReLU, BATCH_MATMUL,
  SOFTMAX, reshape/transpose, ADD/MUL, LOG_SOFTMAX; no erf-GELU;
- normalisation is BatchNorm, which :meth:`StudentAligner.fuse` folds into the
  neighbouring linear layers for export (LayerNorm becomes a six-op int8
  chain in TFLite, the weakest link for int8 accuracy);
- a non-autoregressive encoder: conv stem at 10 ms, strided convs to 20 ms
  (``downsample`` 2) or 40 ms (``downsample`` 4: a second strided conv),
  transformer layers with full self-attention over the window at that rate,
  then back to 10 ms (each transformer frame emits ``downsample`` 10 ms frames)
  with a skip from the 10 ms stem, so boundaries resolve at 10 ms.

Input: ``[B, window, N_MELS]`` float (int8 feature × INPUT_SCALE).
Output: ``[B, window, NUM_TOKENS]`` log-probabilities.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..frontend import N_MELS
from ..text.tokens import NUM_TOKENS


@dataclass
class StudentConfig:
    window: int = 400          # 10 ms input frames per window (4 s)
    n_mels: int = N_MELS
    n_tokens: int = NUM_TOKENS
    stem: int = 80             # channels of the 10 ms stem
    d_model: int = 128
    n_heads: int = 4
    d_ff: int = 160
    n_layers: int = 3
    d_out: int = 64            # width of the 10 ms head
    d_head: int = 0            # width of one attention head (0: d_model // n_heads; pruning removes heads)
    kernel: int = 5
    pos_kernel: int = 7
    dropout: float = 0.1
    n_phones: int = 0          # auxiliary phone head for training only (train/phones.py); 0: none
    downsample: int = 2        # 10 ms frames per transformer frame: 2 (20 ms) or 4 (40 ms)

    def __post_init__(self) -> None:
        if self.downsample not in (2, 4):
            raise ValueError(f"downsample must be 2 (20 ms) or 4 (40 ms) (got {self.downsample})")
        if self.window % self.downsample:
            raise ValueError(f"window must be a multiple of downsample {self.downsample} (got {self.window})")
        if not self.d_head and self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} not divisible by n_heads {self.n_heads}")
        if self.n_heads < 1:
            raise ValueError(f"need at least one attention head (got {self.n_heads})")

    @property
    def head_dim(self) -> int:
        return self.d_head or self.d_model // self.n_heads

    def to_dict(self) -> dict:
        return asdict(self)


class ChannelNorm(nn.BatchNorm1d):
    """BatchNorm over channels of a [B, T, C] tensor (foldable into the next linear layer)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, C]
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, d: int, h: int, dk: int | None = None) -> None:
        super().__init__()
        self.h, self.dk = h, dk or d // h
        self.qkv = nn.Linear(d, 3 * h * self.dk)
        self.out = nn.Linear(h * self.dk, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.h, self.dk).permute(2, 0, 3, 1, 4)  # [B, H, T, dk]
        att = torch.softmax((q * (self.dk ** -0.5)) @ k.transpose(-1, -2), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, self.h * self.dk)
        return self.out(y)


class Block(nn.Module):
    """Pre-norm transformer layer with BatchNorm and a ReLU feed-forward."""

    def __init__(self, cfg: StudentConfig) -> None:
        super().__init__()
        self.norm1 = ChannelNorm(cfg.d_model)
        self.attn = Attention(cfg.d_model, cfg.n_heads, cfg.head_dim)
        self.norm2 = ChannelNorm(cfg.d_model)
        self.ff1 = nn.Linear(cfg.d_model, cfg.d_ff)
        self.ff2 = nn.Linear(cfg.d_ff, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x)))
        return x + self.drop(self.ff2(F.relu(self.ff1(self.norm2(x)))))


class StudentAligner(nn.Module):
    def __init__(self, cfg: StudentConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or StudentConfig()
        self.stem = nn.Conv1d(cfg.n_mels, cfg.stem, cfg.kernel, padding=cfg.kernel // 2)
        self.down = nn.Conv1d(cfg.stem, cfg.d_model, 3, stride=2, padding=1)
        # 40 ms: a second strided conv (absent at 20 ms, so 20 ms checkpoints keep their keys)
        self.down2 = nn.Conv1d(cfg.d_model, cfg.d_model, 3, stride=2, padding=1) if cfg.downsample == 4 else None
        self.pos = nn.Conv1d(cfg.d_model, cfg.d_model, cfg.pos_kernel, padding=cfg.pos_kernel // 2,
                             groups=cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm_out = ChannelNorm(cfg.d_model)
        self.up = nn.Linear(cfg.d_model, cfg.downsample * cfg.d_out)   # one frame -> downsample 10 ms frames
        self.skip = nn.Linear(cfg.stem, cfg.d_out)
        self.head = nn.Linear(cfg.d_out, cfg.n_tokens)
        # training-only: never computed by forward(), so never exported
        self.phone_head = nn.Linear(cfg.d_out, cfg.n_phones) if cfg.n_phones else None
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.head(self.drop(self.frames(x))), dim=-1)

    def forward_with_phones(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(token log-probs, phone log-probs) — the latter from the training-only phone head."""
        if self.phone_head is None:
            raise ValueError("this model has no phone head (StudentConfig.n_phones is 0)")
        y = self.drop(self.frames(x))
        return F.log_softmax(self.head(y), dim=-1), F.log_softmax(self.phone_head(y), dim=-1)

    def frames(self, x: torch.Tensor) -> torch.Tensor:
        """The 10 ms frame representation [B, T, d_out] that the output layers read."""
        b, t, _ = x.shape
        s = F.relu(self.stem(x.transpose(1, 2)))             # [B, stem, T]
        h = downsample(self, s)                              # [B, d, T/ds]
        h = (h + self.pos(h)).transpose(1, 2)                # [B, T/ds, d]
        for blk in self.blocks:
            h = blk(h)
        u = self.up(self.norm_out(h)).reshape(b, t, self.cfg.d_out)
        return F.relu(u + self.skip(s.transpose(1, 2)))

    # ---------------------------------------------------------------- export
    def fuse(self) -> "StudentAligner":
        """An eval-mode copy with every BatchNorm folded into the linear layer after it.

        The folded model computes the same function (to float rounding) with
        no normalisation ops left, which is what the int8 converter sees.
        """
        import copy

        m = copy.deepcopy(self).eval()
        for blk in m.blocks:
            _fold(blk.norm1, blk.attn.qkv)
            _fold(blk.norm2, blk.ff1)
            blk.norm1 = blk.norm2 = nn.Identity()
        _fold(m.norm_out, m.up)
        m.norm_out = nn.Identity()
        return m


def downsample(m: nn.Module, s: torch.Tensor) -> torch.Tensor:
    """The strided conv(s) from the 10 ms stem ``s`` [B, stem, T] to the transformer's rate [B, d, T/ds]."""
    h = F.relu(m.down(s))
    return F.relu(m.down2(h)) if m.down2 is not None else h


@torch.no_grad()
def _fold(bn: nn.BatchNorm1d, lin: nn.Linear) -> None:
    """Fold ``bn`` into ``lin`` (which reads its output).

    A channel whose running variance is below BatchNorm's own ``eps`` is
    constant (a ReLU that never fires): its normalised value is always
    ``bias``, so it becomes part of ``lin``'s bias and its weight column is
    zeroed. Folded naively, ``weight / sqrt(eps)`` would blow that column up
    ~300-fold, and int8 weight quantisation (one scale per *output* channel)
    would round most other weights of the layer to zero.
    """
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    shift = bn.bias - bn.running_mean * scale
    dead = bn.running_var < bn.eps
    lin.bias += lin.weight @ torch.where(dead, bn.bias, shift)
    lin.weight *= torch.where(dead, torch.zeros_like(scale), scale)[None, :]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def macs_per_window(cfg: StudentConfig) -> dict[str, int]:
    """Multiply-accumulates of one window, by part (biases and activations not counted)."""
    t, t2, tn = cfg.window, cfg.window // 2, cfg.window // cfg.downsample
    d, da = cfg.d_model, cfg.n_heads * cfg.head_dim
    per_layer = tn * (4 * d * da + 2 * d * cfg.d_ff) + 2 * tn * tn * da  # projections, FFN, QK^T and AV
    return {
        "stem": t * cfg.n_mels * cfg.stem * cfg.kernel,
        "down": t2 * cfg.stem * d * 3 + (tn * d * d * 3 if cfg.downsample == 4 else 0),
        "pos": tn * d * cfg.pos_kernel,
        "transformer": cfg.n_layers * per_layer,
        "up+skip+head": t * d * cfg.d_out + t * cfg.stem * cfg.d_out + t * cfg.d_out * cfg.n_tokens,
    }


def macs_per_second(cfg: StudentConfig) -> float:
    """MACs per second of audio (a window covers window × 10 ms)."""
    return sum(macs_per_window(cfg).values()) / (cfg.window * 0.01)

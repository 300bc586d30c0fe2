"""Structured pruning of a trained student: whole attention heads and whole channels.

What is removed shrinks every dense shape (no sparse weights, nothing the
int8 kernels must know about): the pruned model is a plain
:class:`StudentAligner` with a smaller :class:`StudentConfig`, converted and
run like any other, and fine-tuned afterwards (``microalign train --init``,
best with the unpruned model as ``--teacher``).

Importance (higher is kept), from the weights alone:

- attention head *i* of a layer: ‖W_q,i‖·‖W_k,i‖ + ‖W_v,i‖·‖W_out[:, i]‖
  (how strongly it can attend, and how much it can write back);
- feed-forward channel *j*: ‖ff1 row j‖·‖ff2 column j‖;
- 10 ms stem channel *c*: ‖stem filter c‖·(‖down[:, c]‖ + ‖skip[:, c]‖);
- 10 ms head channel *k*: (‖up rows of k‖ + ‖skip row k‖)·‖head column k‖.

Every layer keeps the same number of heads and feed-forward channels (the
config has one width per kind), each layer choosing its own best ones.
"""
from __future__ import annotations

import copy
from dataclasses import replace

import torch
from torch import nn

from .student import StudentAligner

_KEYS = ("n_heads", "d_ff", "stem", "d_out")


def _keep(score: torch.Tensor, n: int) -> torch.Tensor:
    """Indices of the ``n`` largest scores, in their original order."""
    return torch.sort(torch.topk(score, n).indices).values


def _rows(lin: nn.Linear, idx: torch.Tensor) -> nn.Linear:
    out = nn.Linear(lin.in_features, len(idx))
    out.weight.data, out.bias.data = lin.weight.data[idx].clone(), lin.bias.data[idx].clone()
    return out


def _cols(lin: nn.Linear, idx: torch.Tensor) -> nn.Linear:
    out = nn.Linear(len(idx), lin.out_features)
    out.weight.data, out.bias.data = lin.weight.data[:, idx].clone(), lin.bias.data.clone()
    return out


@torch.no_grad()
def prune_student(model: StudentAligner, **sizes: int) -> StudentAligner:
    """A pruned copy with the given ``n_heads``, ``d_ff``, ``stem`` and/or ``d_out`` (others unchanged).

    Sizes must not exceed the model's; the result is in eval mode.
    """
    unknown = set(sizes) - set(_KEYS)
    if unknown:
        raise ValueError(f"cannot prune {sorted(unknown)}; prunable: {', '.join(_KEYS)}")
    cfg = model.cfg
    for k, v in sizes.items():
        if not 1 <= v <= getattr(cfg, k):
            raise ValueError(f"{k}={v}: must be between 1 and the model's {getattr(cfg, k)}")
    m = copy.deepcopy(model).eval()
    new_cfg = replace(cfg, d_head=cfg.head_dim, **sizes)
    dk = cfg.head_dim

    for blk in m.blocks:
        att = blk.attn
        w = att.qkv.weight.view(3, att.h, dk, -1)
        wo = att.out.weight.view(att.out.out_features, att.h, dk)
        score = (w[0].flatten(1).norm(dim=1) * w[1].flatten(1).norm(dim=1)
                 + w[2].flatten(1).norm(dim=1) * wo.permute(1, 0, 2).flatten(1).norm(dim=1))
        heads = _keep(score, new_cfg.n_heads)
        rows = torch.cat([(p * att.h + h) * dk + torch.arange(dk) for p in range(3) for h in heads])
        cols = torch.cat([h * dk + torch.arange(dk) for h in heads])
        att.qkv, att.out, att.h = _rows(att.qkv, rows), _cols(att.out, cols), new_cfg.n_heads

        ff = _keep(blk.ff1.weight.norm(dim=1) * blk.ff2.weight.norm(dim=0), new_cfg.d_ff)
        blk.ff1, blk.ff2 = _rows(blk.ff1, ff), _cols(blk.ff2, ff)

    st = _keep(m.stem.weight.flatten(1).norm(dim=1)
               * (m.down.weight.transpose(0, 1).flatten(1).norm(dim=1) + m.skip.weight.norm(dim=0)), new_cfg.stem)
    stem = nn.Conv1d(cfg.n_mels, len(st), cfg.kernel, padding=cfg.kernel // 2)
    stem.weight.data, stem.bias.data = m.stem.weight.data[st].clone(), m.stem.bias.data[st].clone()
    down = nn.Conv1d(len(st), cfg.d_model, 3, stride=2, padding=1)
    down.weight.data, down.bias.data = m.down.weight.data[:, st].clone(), m.down.bias.data.clone()
    m.stem, m.down, m.skip = stem, down, _cols(m.skip, st)

    up = m.up.weight.view(cfg.downsample, cfg.d_out, -1)
    score = (up.permute(1, 0, 2).flatten(1).norm(dim=1) + m.skip.weight.norm(dim=1)) * m.head.weight.norm(dim=0)
    ko = _keep(score, new_cfg.d_out)
    m.up = _rows(m.up, torch.cat([k * cfg.d_out + ko for k in range(cfg.downsample)]))
    m.skip, m.head = _rows(m.skip, ko), _cols(m.head, ko)

    out = StudentAligner(new_cfg).eval()
    out.load_state_dict(m.state_dict())
    return out

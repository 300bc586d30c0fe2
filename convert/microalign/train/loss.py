"""Alignment loss with known word boundaries and latent character boundaries.

Silence frames are trained with cross-entropy on the silence token. Inside a
word span the characters are in order and each takes at least one frame, but
where one ends and the next begins is unknown (no engine or teacher gives
trustworthy character times): the loss is the negative log of the sum over
all such monotonic alignments, an HMM forward pass per word, batched over
all words of the batch. The model is thus pushed to switch from the last
character of a word to the first of the next exactly at the labelled
boundary, which is what the aligner measures.
"""
from __future__ import annotations

import torch

from .targets import SILENCE, WordTarget

NEG = -1e4


def alignment_loss(logp: torch.Tensor, labels: torch.Tensor,
                   words: list[list[WordTarget]], units: str = "tokens") -> tuple[torch.Tensor, dict]:
    """Mean negative log-likelihood per labelled frame.

    logp: [B, T, V] log-probabilities; labels: [B, T] (frame_targets labels);
    words: per batch item, the WordTargets inside the window; ``units``: the
    target sequence of a word, ``"tokens"`` (characters) or ``"phones"`` (the
    auxiliary phone head; words without a fitting pronunciation are left out,
    their frames unlabelled). Index 0 of the last axis is silence in both.
    """
    sil = labels == SILENCE
    sil_nll = -(logp[..., 0] * sil).sum()
    flat = [(b, w) for b, ws in enumerate(words) for w in ws if getattr(w, units)]
    word_nll = logp.new_zeros(())
    n_word_frames = 0
    if flat:
        n = len(flat)
        L = max(w.end - w.start for _, w in flat)
        C = max(len(getattr(w, units)) for _, w in flat)
        bidx = torch.tensor([b for b, _ in flat])
        start = torch.tensor([w.start for _, w in flat])
        length = torch.tensor([w.end - w.start for _, w in flat])
        nch = torch.tensor([len(getattr(w, units)) for _, w in flat])
        toks = torch.zeros(n, C, dtype=torch.long)
        for i, (_, w) in enumerate(flat):
            toks[i, :nch[i]] = torch.tensor(getattr(w, units))
        t_idx = (start[:, None] + torch.arange(L)[None, :]).clamp(max=logp.shape[1] - 1)
        emis = logp[bidx[:, None, None], t_idx[:, :, None], toks[:, None, :]]          # [N, L, C]
        valid_c = torch.arange(C)[None, :] < nch[:, None]
        emis = emis.masked_fill(~valid_c[:, None, :], NEG)
        alpha = torch.full((n, C), NEG, dtype=logp.dtype)
        alpha[:, 0] = emis[:, 0, 0]
        alpha = alpha.clone()
        for t in range(1, L):
            prev = torch.cat([alpha.new_full((n, 1), NEG), alpha[:, :-1]], dim=1)
            new = torch.logaddexp(alpha, prev) + emis[:, t]
            alpha = torch.where((t < length)[:, None], new, alpha)
        final = alpha.gather(1, (nch - 1)[:, None])[:, 0]
        word_nll = -final.sum()
        n_word_frames = int(length.sum())
    n_frames = int(sil.sum()) + n_word_frames
    loss = (sil_nll + word_nll) / max(n_frames, 1)
    return loss, {"sil_frames": int(sil.sum()), "word_frames": n_word_frames, "words": len(flat)}

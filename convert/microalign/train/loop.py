"""Training: seeded, resumable, with a progress bar.

``run_dir/last.pt`` holds model, optimiser, scheduler and step; rerunning the
same command resumes from it. The final model is written as a plain student
checkpoint (:mod:`microalign.model.checkpoint`) with its metadata.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..model import StudentAligner, StudentConfig, count_parameters, macs_per_second, save_checkpoint
from .dataset import Source, WindowDataset, collate
from .loss import alignment_loss


@dataclass
class TrainConfig:
    steps: int = 6000
    batch: int = 16
    lr: float = 2e-3
    warmup: int = 300
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 1
    workers: int = 1
    ckpt_every: int = 200
    val_every: int = 500
    augment: bool = True
    distill: float = 0.0        # weight of the frame-level KL to the teacher model (0: no teacher)
    phones: float = 0.0         # weight of the auxiliary phone loss (train/phones.py; 0: no phone head)
    model: StudentConfig = field(default_factory=StudentConfig)


def _lr(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    p = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(p, 1.0))))


@torch.no_grad()
def validate(model: StudentAligner, data: WindowDataset, n: int) -> float:
    model.eval()
    losses = []
    for i in range(0, n, 16):
        x, y, w = collate([data[j] for j in range(i, min(i + 16, n))])
        losses.append(float(alignment_loss(model(x), y, w)[0]))
    model.train()
    return float(np.mean(losses))


def distill_loss(student_logp: torch.Tensor, teacher_logp: torch.Tensor) -> torch.Tensor:
    """Mean over frames of KL(teacher || student) of the frame distributions (log-probs [B, T, V])."""
    return (teacher_logp.exp() * (teacher_logp - student_logp)).sum(-1).mean()


def train(cfg: TrainConfig, sources: list[Source], run_dir: str | Path, val_sources: list[Source] | None = None,
          init: str | Path | None = None, teacher: str | Path | None = None, progress: bool = True
          ) -> StudentAligner:
    """Train a student; ``init`` starts from a checkpoint (its config wins over ``cfg.model``, so a
    pruned model is fine-tuned in its own shape); ``teacher`` adds ``cfg.distill`` × the KL to a
    (larger) model's frame distributions: distillation."""
    from ..model import load_checkpoint

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    if init:
        model, _ = load_checkpoint(init)
        cfg = replace(cfg, model=model.cfg)
    else:
        model = StudentAligner(cfg.model)
    if (teacher is None) != (cfg.distill == 0):
        raise ValueError("distillation needs both a teacher model and a weight > 0")
    teacher_model = load_checkpoint(teacher)[0] if teacher else None
    pron = None
    if cfg.phones > 0:
        from .phones import NUM_PHONES, PhoneLexicon

        if model.phone_head is None:       # e.g. initialised from a shipped student: add a fresh head
            cfg = replace(cfg, model=replace(model.cfg, n_phones=NUM_PHONES))
            model.cfg = cfg.model
            model.phone_head = torch.nn.Linear(cfg.model.d_out, NUM_PHONES)
        lexicon = PhoneLexicon()
        pron = lexicon.table(w.label for s in sources for u in s.utterances for w in u.words)
        print(f"phone targets: {len(pron)} word types ({lexicon.sources})")
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step = 0
    last = run_dir / "last.pt"
    if last.is_file():
        st = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step = st["step"]
        print(f"resuming {run_dir} at step {step}")
    data = WindowDataset(sources, cfg.model.window, cfg.steps * cfg.batch, cfg.seed, cfg.augment, pron)
    val = WindowDataset(val_sources, cfg.model.window, 256, seed=12345, augment=False) if val_sources else None
    sampler = range(step * cfg.batch, cfg.steps * cfg.batch)
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(data, sampler), batch_size=cfg.batch,
                                         collate_fn=collate, num_workers=cfg.workers,
                                         persistent_workers=False, prefetch_factor=4 if cfg.workers else None)
    log = open(run_dir / "log.jsonl", "a")
    model.train()
    bar = tqdm(total=cfg.steps, initial=step, desc="train", disable=not progress, unit="step")
    t0, ema = time.time(), None
    for x, y, w in loader:
        for g in opt.param_groups:
            g["lr"] = _lr(step, cfg)
        logp, phone_logp = model.forward_with_phones(x) if pron is not None else (model(x), None)
        loss, info = alignment_loss(logp, y, w)
        if phone_logp is not None:
            loss = loss + cfg.phones * alignment_loss(phone_logp, y, w, units="phones")[0]
        if teacher_model is not None:
            with torch.no_grad():
                t_logp = teacher_model(x)
            loss = loss + cfg.distill * distill_loss(logp, t_logp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        lv = float(loss.detach())
        ema = lv if ema is None else 0.98 * ema + 0.02 * lv
        bar.update(1)
        bar.set_postfix(loss=f"{ema:.3f}", lr=f"{_lr(step, cfg):.1e}")
        rec = {"step": step, "loss": lv, "lr": _lr(step, cfg), "t": round(time.time() - t0, 1)}
        if val is not None and (step % cfg.val_every == 0 or step == cfg.steps):
            rec["val_loss"] = validate(model, val, 128)
            bar.write(f"step {step}: val loss {rec['val_loss']:.4f}")
        log.write(json.dumps(rec) + "\n")
        if step % cfg.ckpt_every == 0 or step == cfg.steps:
            tmp = last.with_suffix(".tmp")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step}, tmp)
            tmp.replace(last)
            log.flush()
    bar.close()
    model.eval()
    meta = {"train": {k: v for k, v in asdict(cfg).items() if k != "model"},
            "sources": [{"name": s.name, "utterances": len(s.utterances), "weight": s.weight,
                         "hours": round(sum(len(p) for p in s.pcm) / 16000 / 3600, 3)} for s in sources],
            "parameters": count_parameters(model), "macs_per_second": macs_per_second(cfg.model),
            "init": str(init) if init else "scratch", "teacher": str(teacher) if teacher else None}
    save_checkpoint(run_dir / "student.pt", _without_phone_head(model), meta)
    return model


def _without_phone_head(model: StudentAligner) -> StudentAligner:
    """The model as shipped: the training-only phone head dropped (forward() never used it)."""
    if model.phone_head is None:
        return model
    out = StudentAligner(replace(model.cfg, n_phones=0))
    out.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("phone_head.")})
    return out.eval()

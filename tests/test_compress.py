"""Compression tools: structured pruning, distillation in the training loop, the pruned model's export form."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from microalign.model import StudentAligner, StudentConfig, count_parameters, load_checkpoint, macs_per_second
from microalign.model.prune import prune_student

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
SMALL = StudentConfig(window=40, stem=12, d_model=16, n_heads=4, d_ff=20, n_layers=2, d_out=10)


def _model(seed=0) -> StudentAligner:
    torch.manual_seed(seed)
    return StudentAligner(SMALL).eval()


def test_prune_to_full_size_is_the_identity():
    m = _model()
    x = torch.randn(2, 40, 40)
    p = prune_student(m, n_heads=4, d_ff=20, stem=12, d_out=10)
    assert torch.equal(m(x), p(x))


def test_prune_keeps_the_important_units_and_shrinks_everything():
    m = _model()
    with torch.no_grad():                          # make head 1, ff channel 3 and stem channel 5 useless
        for blk in m.blocks:
            blk.attn.out.weight[:, 4:8] = 0
            blk.ff2.weight[:, 3] = 0
        m.stem.weight[5] = 0
        m.stem.bias[5] = -1.0                     # ReLU(-1) = 0: the channel is silent
    p = prune_student(m, n_heads=3, d_ff=19, stem=11)
    assert (p.cfg.n_heads, p.cfg.head_dim, p.cfg.d_ff, p.cfg.stem) == (3, 4, 19, 11)
    assert count_parameters(p) < count_parameters(m) and macs_per_second(p.cfg) < macs_per_second(m.cfg)
    x = torch.randn(1, 40, 40)
    # what was removed contributed nothing, so the function is unchanged
    assert torch.allclose(m(x), p(x), atol=1e-5)


def test_prune_rejects_bad_sizes():
    with pytest.raises(ValueError, match="between 1 and"):
        prune_student(_model(), d_ff=21)
    with pytest.raises(ValueError, match="cannot prune"):
        prune_student(_model(), d_model=8)


def test_pruned_model_has_a_faithful_export_form():
    from microalign.export.graph import ExportAligner, check_equivalence

    p = prune_student(_model(), n_heads=2, d_ff=12)
    for mode in ("per_head", "batched"):
        assert check_equivalence(p, ExportAligner(p, attention=mode), torch.randn(2, 40, 40)) < 1e-4


def test_prune_cli_and_checkpoint_round_trip(tmp_path):
    from click.testing import CliRunner

    from microalign.cli import main
    from microalign.model import save_checkpoint

    src = tmp_path / "m.pt"
    save_checkpoint(src, _model())
    r = CliRunner().invoke(main, ["prune", "--model", str(src), "--heads", "2", "--d-ff", "10", "-o",
                                  str(tmp_path / "p.pt")])
    assert r.exit_code == 0, r.output
    p, meta = load_checkpoint(tmp_path / "p.pt")
    assert (p.cfg.n_heads, p.cfg.d_ff) == (2, 10) and meta["pruned"] == {"n_heads": 2, "d_ff": 10}
    r = CliRunner().invoke(main, ["prune", "--model", str(src), "--heads", "9", "-o", str(tmp_path / "q.pt")])
    assert r.exit_code != 0 and "n_heads=9" in r.output


def test_distill_loss_is_zero_for_the_teacher_itself():
    from microalign.train.loop import distill_loss

    t = torch.log_softmax(torch.randn(2, 7, 28), -1)
    s = torch.log_softmax(torch.randn(2, 7, 28), -1)
    assert float(distill_loss(t, t)) == pytest.approx(0.0, abs=1e-6)
    assert float(distill_loss(s, t)) > 0.01


def _sample_manifest(tmp_path) -> Path:
    """The bundled sample with word timings from the shipped aligner (plumbing only)."""
    from microalign.align import TorchScorer, align_file
    from microalign.corpus import Segment, Utterance, write_manifest

    text = (ASSETS / "sample.txt").read_text().strip()
    al = align_file(ASSETS / "sample.wav", text, TorchScorer())
    u = Utterance("sample", str(ASSETS / "sample.wav"), text, [Segment(w.word, w.start, w.end) for w in al.words])
    path = tmp_path / "train.jsonl"
    write_manifest(path, [u])
    return path


def test_train_distils_and_fine_tunes_a_pruned_model(tmp_path):
    from microalign.corpus import read_manifest
    from microalign.model import save_checkpoint
    from microalign.train.dataset import Source
    from microalign.train.loop import TrainConfig, train

    manifest = _sample_manifest(tmp_path)
    src = [Source("sample", list(read_manifest(manifest))).load(progress=False)]
    cfg = StudentConfig(stem=16, d_model=32, n_heads=2, d_ff=32, n_layers=1, d_out=16)
    teacher = tmp_path / "teacher.pt"
    torch.manual_seed(1)
    save_checkpoint(teacher, StudentAligner(cfg))
    pruned = tmp_path / "pruned.pt"
    save_checkpoint(pruned, prune_student(StudentAligner(cfg).eval(), n_heads=1, d_ff=16))
    tc = TrainConfig(steps=2, batch=2, workers=0, ckpt_every=1, augment=False, distill=0.5, model=cfg)
    m = train(tc, src, tmp_path / "run", init=pruned, teacher=teacher, progress=False)
    assert (m.cfg.n_heads, m.cfg.d_ff) == (1, 16)                 # the checkpoint's shape, not cfg.model's
    _, meta = load_checkpoint(tmp_path / "run" / "student.pt")
    assert meta["teacher"] == str(teacher) and meta["train"]["distill"] == 0.5
    with pytest.raises(ValueError, match="teacher"):
        train(TrainConfig(steps=1, batch=2, workers=0, distill=0.5, model=cfg), src, tmp_path / "r2", progress=False)


# --------------------------------------------------------------------------- the 40 ms transformer rate
SMALL40 = StudentConfig(window=40, stem=12, d_model=16, n_heads=4, d_ff=20, n_layers=2, d_out=10, downsample=4)


def test_40ms_model_scores_every_10ms_frame_and_exports_faithfully():
    from microalign.export.graph import ExportAligner, check_equivalence

    torch.manual_seed(0)
    m = StudentAligner(SMALL40).eval()
    x = torch.randn(2, 40, 40)
    assert m(x).shape == (2, 40, SMALL40.n_tokens)
    # the transformer runs on 10 frames (one per 40 ms), the 20 ms model on 20
    seen = []
    m.blocks[0].register_forward_hook(lambda mod, inp, out: seen.append(out.shape[1]))
    m(x)
    assert seen == [10]
    # each 40 ms frame emits four 10 ms frames: the upsampling layer is 4 x d_out wide
    assert m.up.out_features == 4 * SMALL40.d_out
    assert macs_per_second(SMALL40) < macs_per_second(SMALL)
    for mode in ("per_head", "batched"):
        assert check_equivalence(m, ExportAligner(m, attention=mode), x) < 1e-4
    p = prune_student(m, n_heads=2, d_ff=12, stem=8, d_out=6)
    assert p.cfg.downsample == 4
    assert check_equivalence(p, ExportAligner(p, attention="per_head"), x) < 1e-4


def test_transformer_rate_must_divide_the_window():
    with pytest.raises(ValueError, match="downsample must be 2"):
        StudentConfig(downsample=3)
    with pytest.raises(ValueError, match="multiple of downsample 4"):
        StudentConfig(window=402, downsample=4)

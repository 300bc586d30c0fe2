import numpy as np
import torch

from microalign.corpus import Segment
from microalign.train.loss import alignment_loss
from microalign.train.targets import IGNORE, IN_WORD, SILENCE, frame_targets


def test_frame_targets_spans_and_edges():
    words = [Segment("ab", 0.10, 0.20), Segment("cd", 0.195, 0.30), Segment("toolongword", 0.5, 0.52),
             Segment("cut", 0.95, 1.2)]
    labels, targets, skipped = frame_targets(words, 100)
    assert [(t.start, t.end) for t in targets] == [(10, 20), (20, 30)]     # overlap split at the midpoint
    assert targets[0].tokens == [2, 3]
    assert (labels[10:30] == IN_WORD).all() and (labels[:10] == SILENCE).all()
    assert (labels[50:52] == IGNORE).all() and skipped == 1                # 11 chars in 2 frames
    assert (labels[95:] == IGNORE).all()                                   # cut by the window edge


def test_alignment_loss_prefers_correct_switch_point():
    """The loss is lowest for scores that switch characters inside the labelled word span."""
    T, V = 20, 28
    words = [Segment("ab", 0.05, 0.15)]
    labels, targets, _ = frame_targets(words, T)
    good = torch.full((1, T, V), -8.0)
    good[0, :, 0] = 0.0
    good[0, 5:10, 2] = 0.0; good[0, 5:10, 0] = -8.0
    good[0, 10:15, 3] = 0.0; good[0, 10:15, 0] = -8.0
    bad = good.clone()
    bad[0, 5:15] = -8.0; bad[0, 5:15, 0] = 0.0                           # silence where the word is
    lg, info = alignment_loss(torch.log_softmax(good, -1), torch.from_numpy(labels)[None], [targets])
    lb, _ = alignment_loss(torch.log_softmax(bad, -1), torch.from_numpy(labels)[None], [targets])
    assert info == {"sil_frames": 10, "word_frames": 10, "words": 1}
    assert float(lg) < 0.05 < float(lb)


def test_alignment_loss_gradients_flow():
    logits = torch.randn(2, 30, 28, requires_grad=True)
    labels, targets, _ = frame_targets([Segment("hi", 0.05, 0.2)], 30)
    y = torch.from_numpy(np.stack([labels, labels]))
    loss, _ = alignment_loss(torch.log_softmax(logits, -1), y, [targets, targets])
    loss.backward()
    assert torch.isfinite(loss) and logits.grad.abs().sum() > 0


def test_uncertain_words_and_their_pauses_are_ignored():
    from microalign.teachers.consensus import UNCERTAIN_PREFIX

    words = [Segment("ab", 0.10, 0.20), Segment(UNCERTAIN_PREFIX + "cd", 0.30, 0.40), Segment("ef", 0.50, 0.60)]
    labels, targets, skipped = frame_targets(words, 80)
    assert [(t.start, t.end) for t in targets] == [(10, 20), (50, 60)] and skipped == 0
    assert (labels[20:50] == IGNORE).all()                      # the word and the pauses either side
    assert (labels[:10] == SILENCE).all() and (labels[60:] == SILENCE).all()
    assert (labels[10:20] == IN_WORD).all() and (labels[50:60] == IN_WORD).all()


def test_fuse_drops_constant_channels_into_the_bias():
    """A never-firing channel (running variance < eps) must not blow up the folded weights."""
    from microalign.model.student import StudentAligner, StudentConfig

    m = StudentAligner(StudentConfig(window=20, stem=8, d_model=16, n_heads=2, d_ff=16, n_layers=1, d_out=8)).eval()
    bn = m.blocks[0].norm1
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2.0)
        bn.running_var[3] = 0.0                                 # channel 3 is constant
        bn.weight.uniform_(0.5, 1.5)
    lin = m.fuse().blocks[0].attn.qkv
    assert (lin.weight[:, 3] == 0).all()
    assert float(lin.weight.detach().abs().max()) < 10 * float(m.blocks[0].attn.qkv.weight.detach().abs().max())
    # with channel 3 held at its running mean, folded and unfolded models agree
    x = torch.randn(1, 10, 16)
    x[..., 3] = bn.running_mean[3]
    ref = m.blocks[0].attn.qkv(bn(x))
    assert torch.allclose(lin(x), ref, atol=1e-5)

"""The training-only phone head (issue 13): pronunciations, targets, loss, and that it is never exported."""
from pathlib import Path

import numpy as np
import pytest
import torch

from microalign.corpus import Segment
from microalign.model import StudentAligner, StudentConfig, load_checkpoint, save_checkpoint
from microalign.train.loss import alignment_loss
from microalign.train.targets import WordTarget, frame_targets

pytest.importorskip("pocketsphinx")
from microalign.train.phones import NUM_PHONES, PHONES, PhoneLexicon  # noqa: E402

TINY = StudentConfig(stem=16, d_model=32, n_heads=2, d_ff=32, n_layers=1, d_out=16)


@pytest.fixture(scope="module")
def lexicon():
    return PhoneLexicon(letter_to_sound="rules")


def test_phone_table_is_silence_then_arpabet():
    assert PHONES[0] == "<sil>" and NUM_PHONES == 40 and list(PHONES[1:]) == sorted(PHONES[1:])


def test_lexicon_uses_cmudict_then_letter_to_sound(lexicon):
    ids = {p: i for i, p in enumerate(PHONES)}
    assert lexicon("The") == (ids["DH"], ids["AH"])                       # CMUdict, case and stress ignored
    assert lexicon("cat's") == (ids["K"], ids["AE"], ids["T"], ids["S"])  # derived or listed: k ae t s
    guessed = lexicon("zorblaxian")                                       # in no dictionary: rules
    assert guessed and all(0 < i < NUM_PHONES for i in guessed)
    assert lexicon("123") is None and lexicon("") is None


def test_targets_carry_phones_only_where_they_fit():
    pron = {"cat": (1, 2, 3), "a": (4, 5, 6, 7)}
    _, targets, _ = frame_targets([Segment("cat", 0.10, 0.20), Segment("a", 0.30, 0.33)], 50, pronunciations=pron)
    assert targets[0].phones == (1, 2, 3)
    assert targets[1].phones is None                    # 4 phones do not fit in 3 frames: no phone target
    _, plain, _ = frame_targets([Segment("cat", 0.10, 0.20)], 50)
    assert plain[0].phones is None


def test_phone_loss_is_the_word_loss_over_phone_ids():
    """units="phones" scores exactly what the character loss scores when the phones are the tokens."""
    torch.manual_seed(0)
    logp = torch.log_softmax(torch.randn(2, 40, NUM_PHONES), -1)
    labels, targets, _ = frame_targets([Segment("cat", 0.05, 0.20), Segment("dog", 0.25, 0.35)], 40,
                                       pronunciations={"cat": (11, 2, 30), "dog": (9, 1, 13)})
    y = torch.from_numpy(np.stack([labels, labels]))
    as_tokens = [[WordTarget(t.start, t.end, list(t.phones)) for t in targets]] * 2
    got, info = alignment_loss(logp, y, [targets, targets], units="phones")
    want, _ = alignment_loss(logp, y, as_tokens)
    assert info["words"] == 4 and float(got) == pytest.approx(float(want), rel=1e-6)
    # words without phones drop out of the phone loss (but the character loss keeps them)
    no_phones = [[WordTarget(t.start, t.end, t.tokens) for t in targets]] * 2
    assert alignment_loss(logp, y, no_phones, units="phones")[1]["words"] == 0
    assert alignment_loss(logp, y, no_phones)[1]["words"] == 4


def test_forward_never_reads_the_phone_head():
    torch.manual_seed(0)
    m = StudentAligner(StudentConfig(**{**TINY.to_dict(), "n_phones": NUM_PHONES})).eval()
    x = torch.randn(1, TINY.window, TINY.n_mels)
    before = m(x)
    with torch.no_grad():
        m.phone_head.weight.fill_(1e3)
    tok, ph = m.forward_with_phones(x)
    assert torch.equal(before, m(x)) and torch.equal(before, tok) and ph.shape[-1] == NUM_PHONES
    with pytest.raises(ValueError, match="phone head"):
        StudentAligner(TINY).forward_with_phones(x)


def test_training_with_phones_ships_the_model_without_the_head(tmp_path):
    from microalign.train.dataset import Source
    from microalign.train.loop import TrainConfig, train
    from test_compress import _sample_manifest

    from microalign.corpus import read_manifest

    src = [Source("sample", list(read_manifest(_sample_manifest(tmp_path)))).load(progress=False)]
    init = tmp_path / "init.pt"
    torch.manual_seed(2)
    save_checkpoint(init, StudentAligner(TINY))
    tc = TrainConfig(steps=3, batch=2, workers=0, ckpt_every=1, augment=False, phones=0.5, model=TINY)
    m = train(tc, src, tmp_path / "run", init=init, progress=False)
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=False)["model"]
    assert "phone_head.weight" in last and last["phone_head.weight"].shape == (NUM_PHONES, TINY.d_out)
    shipped, meta = load_checkpoint(tmp_path / "run" / "student.pt")
    assert shipped.phone_head is None and shipped.cfg.n_phones == 0 and meta["train"]["phones"] == 0.5
    x = torch.randn(1, TINY.window, TINY.n_mels)
    with torch.no_grad():
        assert torch.equal(shipped(x), m.eval()(x))     # the same character scores, head or no head
    # training ran with both losses: the character head moved from the initial model's
    assert not torch.equal(last["head.weight"], torch.load(init, weights_only=True)["state_dict"]["head.weight"])
    assert Path(tmp_path / "run" / "log.jsonl").read_text().count("\n") == 3

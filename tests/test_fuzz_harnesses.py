"""The libFuzzer harnesses build and survive a short campaign (the long ones: tflm_app/fuzz.sh, eval/results/fuzz.md).

Each harness is built as tflm_app/fuzz.sh builds it (clang, ASan + UBSan, abort on the first report) into a
temporary directory and run for a few thousand inputs from an empty corpus (the small shapes of
MA_FUZZ_SMALL for the kernels). A harness whose checks fail aborts, which fails the test; so does a
sanitizer report. Skipped when clang or its libFuzzer runtime is missing.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO

T = REPO / "tflm_app"
K, A = T / "kernels", T / "app"
HARNESSES = {
    "ma_decode_s8": [K / "fuzz" / "ma_decode_s8_fuzz.c", K / "ma_decode_s8.c"],
    "ma_refine_s8": [K / "fuzz" / "ma_refine_s8_fuzz.c", K / "ma_refine_s8.c"],
    "ma_attention_s8": [K / "fuzz" / "ma_attention_s8_fuzz.c", K / "ma_attention_s8.c"],
    "ma_add_s8": [K / "fuzz" / "ma_add_s8_fuzz.c", K / "ma_add_s8.c"],
    "ma_fc_s8": [K / "fuzz" / "ma_fc_s8_fuzz.c"],       # includes ma_fc_s8.c with its DSP loops emulated
    "ma_image": [A / "fuzz" / "ma_image_fuzz.c", A / "ma_image.c", A / "ma_hash.c"],
    "ma_transcript": [A / "fuzz" / "ma_transcript_fuzz.c", A / "ma_transcript.c", A / "ma_json.c"],
}
RUNS = 3000


@pytest.fixture(scope="module")
def clang(tmp_path_factory):
    cc = shutil.which("clang")
    if cc is None:
        pytest.skip("needs clang with libFuzzer (apt-get install clang)")
    d = tmp_path_factory.mktemp("fuzz_probe")
    (d / "t.c").write_text("#include <stdint.h>\n#include <stddef.h>\n"
                           "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
    if subprocess.run([cc, "-fsanitize=fuzzer", str(d / "t.c"), "-o", str(d / "t")], capture_output=True).returncode:
        pytest.skip("clang has no libFuzzer runtime")
    return cc


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_harness_short_campaign(clang, tmp_path, name):
    exe = tmp_path / "fuzz"
    subprocess.run([clang, "-std=c99", "-O1", "-g", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
                    f"-I{K}", f"-I{A}", f"-I{T / 'generated'}", *map(str, HARNESSES[name]), "-lm", "-o", str(exe)],
                   check=True)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    env = dict(os.environ, MA_FUZZ_SMALL="1", MA_FUZZ_STATS="1")
    p = subprocess.run([str(exe), f"-runs={RUNS}", "-max_len=512", "-seed=1", f"-artifact_prefix={tmp_path}/", str(corpus)],
                       capture_output=True, text=True, env=env, timeout=600)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-3000:]
    assert re.search(rf"^Done {RUNS} runs in \d+ second", out, re.M), out[-2000:]
    assert not list(tmp_path.glob("crash-*")) and "runtime error" not in out
    if name == "ma_decode_s8":           # the harness reaches the decoder, not only its argument checks
        m = re.search(r"ok_exact=(\d+) ok_banded=(\d+)", out)
        assert m and int(m.group(1)) + int(m.group(2)) > 0, out[-2000:]
    if name == "ma_refine_s8":           # a fair share of inputs is refined, the rest refused for every reason
        m = re.search(r"ok=(\d+) err_argument=(\d+) err_token=(\d+) err_too_short=\d+ err_scratch=(\d+)", out)
        assert m and int(m.group(1)) > RUNS // 10 and min(int(x) for x in m.groups()[1:]) > 0, out[-2000:]
    if name in ("ma_add_s8", "ma_fc_s8"):   # most inputs reach the kernel, some are refused
        m = re.search(r"ran=(\d+) refused=(\d+)", out)
        assert m and int(m.group(1)) > RUNS // 4 and int(m.group(2)) > 0, out[-2000:]
    if name == "ma_fc_s8":               # depthwise convolutions among them
        m = re.search(r"depthwise=(\d+)", out)
        assert m and int(m.group(1)) > RUNS // 20, out[-2000:]

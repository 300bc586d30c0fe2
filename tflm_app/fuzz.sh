#!/bin/sh
# Builds and runs one of the libFuzzer harnesses (clang, ASan + UBSan, abort on the first report).
#   tflm_app/fuzz.sh HARNESS [RUNS] [extra libFuzzer flags]
# HARNESS: ma_decode_s8 | ma_refine_s8 | ma_attention_s8 | ma_add_s8 | ma_fc_s8 (kernels/fuzz/) | ma_image | ma_transcript (app/fuzz/).
# RUNS defaults to 1000000; corpus and crash files go to build/fuzz/HARNESS (outside git).
# Environment: MAX_LEN=N overrides the harness's -max_len; MA_FUZZ_SMALL=1 makes the kernel
# harnesses draw small shapes (cheaper runs, for 10 M-run campaigns: eval/results/fuzz.md). The
# decode and image harnesses print at the end how often each status / reason came up. The last
# lines ("fuzz.sh summary: ...") give the exit status, libFuzzer's "Done N runs" line and any
# crash files; the full output is kept in build/fuzz/HARNESS/last.log.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
name=${1:?usage: tflm_app/fuzz.sh ma_decode_s8|ma_refine_s8|ma_attention_s8|ma_add_s8|ma_fc_s8|ma_image|ma_transcript [RUNS] [flags]}
shift
runs=${1:-1000000}
[ $# -gt 0 ] && shift
out=$repo/build/fuzz/$name
k=$here/kernels
a=$here/app
max_len=4096
case $name in
  ma_decode_s8) srcs="$k/fuzz/ma_decode_s8_fuzz.c $k/ma_decode_s8.c" ;;
  ma_refine_s8) srcs="$k/fuzz/ma_refine_s8_fuzz.c $k/ma_refine_s8.c" ;;
  ma_attention_s8) srcs="$k/fuzz/ma_attention_s8_fuzz.c $k/ma_attention_s8.c" ;;
  ma_add_s8) srcs="$k/fuzz/ma_add_s8_fuzz.c $k/ma_add_s8.c" ;;
  ma_fc_s8) srcs="$k/fuzz/ma_fc_s8_fuzz.c"; max_len=1024 ;;  # includes ma_fc_s8.c (its DSP loops, emulated)
  ma_image) srcs="$a/fuzz/ma_image_fuzz.c $a/ma_image.c $a/ma_hash.c"; max_len=8192 ;;
  ma_transcript) srcs="$a/fuzz/ma_transcript_fuzz.c $a/ma_transcript.c $a/ma_json.c" ;;
  *) echo "fuzz.sh: unknown harness '$name' (ma_decode_s8, ma_refine_s8, ma_attention_s8, ma_add_s8, ma_fc_s8, ma_image, ma_transcript)" >&2; exit 2 ;;
esac
max_len=${MAX_LEN:-$max_len}
mkdir -p "$out/corpus"
# shellcheck disable=SC2086
clang -std=c99 -O2 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$k" -I"$a" -I"$here/generated" $srcs -lm -o "$out/fuzz"
if [ ! -e "$out/corpus/seed" ] && [ ! -e "$out/corpus/seed3" ]; then
  case $name in
    ma_transcript) printf "it's a test\n of the  parser" > "$out/corpus/seed" ;;
    ma_image)  # a small valid image (a stand-in model) for the committed generated headers
      if [ -x "$repo/.venv/bin/python" ]; then
        "$repo/.venv/bin/python" - "$out/corpus/seed" <<'PY'
import sys
from microalign.export import image as I
img = I.write_image(b"\x10\0\0\0TFL3" + bytes(range(200)), reorder=False)
for mode in (3, 7):
    open(f"{sys.argv[1]}{mode}", "wb").write(bytes([mode]) + img)
PY
      fi ;;
  esac
fi
cd "$out"
# libFuzzer's output goes to the terminal and to $out/last.log; the summary below repeats its final
# "Done N runs in S second(s)" line (what eval/results/fuzz.md records) and any crash files.
rm -f "$out/last.rc"
{ MA_FUZZ_STATS=1 ./fuzz -runs="$runs" -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$out/" \
    "$@" corpus 2>&1; echo $? > "$out/last.rc"; } | tee "$out/last.log"
rc=$(cat "$out/last.rc" 2>/dev/null || echo 1)
done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$out/last.log" | tail -n 1 || true)
crashes=$(grep -cE '^==[0-9]+==ERROR|^SUMMARY: (Address|Undefined)|runtime error:|deadly signal' "$out/last.log" || true)
echo "fuzz.sh summary: harness=$name runs=$runs max_len=$max_len exit=$rc sanitizer_reports=$crashes"
echo "fuzz.sh summary: ${done_line:-no 'Done' line (the run stopped early: see $out/last.log)}"
ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null | sed 's/^/fuzz.sh summary: artifact /' || true
exit "$rc"

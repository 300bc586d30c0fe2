#!/bin/sh
# Builds and runs one of the libFuzzer harnesses (clang, ASan + UBSan, abort on the first report).
#   tflm_app/fuzz.sh HARNESS [RUNS] [extra libFuzzer flags]
# HARNESS: ma_decode_s8 | ma_attention_s8 (kernels/fuzz/) | ma_image | ma_transcript (app/fuzz/).
# RUNS defaults to 1000000; corpus and crash files go to build/fuzz/HARNESS (outside git). The
# decode and image harnesses print at the end how often each status / reason came up.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
name=${1:?usage: tflm_app/fuzz.sh ma_decode_s8|ma_attention_s8|ma_image|ma_transcript [RUNS] [flags]}
shift
runs=${1:-1000000}
[ $# -gt 0 ] && shift
out=$repo/build/fuzz/$name
k=$here/kernels
a=$here/app
max_len=4096
case $name in
  ma_decode_s8) srcs="$k/fuzz/ma_decode_s8_fuzz.c $k/ma_decode_s8.c" ;;
  ma_attention_s8) srcs="$k/fuzz/ma_attention_s8_fuzz.c $k/ma_attention_s8.c" ;;
  ma_image) srcs="$a/fuzz/ma_image_fuzz.c $a/ma_image.c $a/ma_hash.c"; max_len=8192 ;;
  ma_transcript) srcs="$a/fuzz/ma_transcript_fuzz.c $a/ma_transcript.c $a/ma_json.c" ;;
  *) echo "fuzz.sh: unknown harness '$name' (ma_decode_s8, ma_attention_s8, ma_image, ma_transcript)" >&2; exit 2 ;;
esac
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
MA_FUZZ_STATS=1 ./fuzz -runs="$runs" -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$out/" "$@" corpus

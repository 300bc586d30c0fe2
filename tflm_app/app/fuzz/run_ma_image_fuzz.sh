#!/bin/sh
# Builds and runs the libFuzzer harness of the weight image reader.
#   tflm_app/app/fuzz/run_ma_image_fuzz.sh [RUNS] [extra libFuzzer flags]
# RUNS defaults to 1000000; corpus and crash files go to build/fuzz/ma_image (outside git). The seed
# is a small valid image (a stand-in model) for the committed generated headers, written by
# export/image.py when the venv exists. At the end the harness prints how often each reason came up.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=$repo/build/fuzz/ma_image
runs=${1:-1000000}
[ $# -gt 0 ] && shift
mkdir -p "$out/corpus"
clang -std=c99 -O2 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$here/.." -I"$repo/tflm_app/kernels" -I"$repo/tflm_app/generated" \
  "$here/ma_image_fuzz.c" "$here/../ma_image.c" "$here/../ma_hash.c" -o "$out/fuzz"
if [ -x "$repo/.venv/bin/python" ] && [ ! -e "$out/corpus/seed" ]; then
  "$repo/.venv/bin/python" - "$out/corpus/seed" <<'PY'
import sys
from microalign.export import image as I
img = I.write_image(b"\x10\0\0\0TFL3" + bytes(range(200)), reorder=False)
for mode in (3, 7):
    open(f"{sys.argv[1]}{mode}", "wb").write(bytes([mode]) + img)
PY
fi
cd "$out"
MA_FUZZ_STATS=1 ./fuzz -runs="$runs" -max_len=8192 -print_final_stats=1 -artifact_prefix="$out/" "$@" corpus

#!/bin/sh
# Builds and runs the libFuzzer harness for ma_decode_s8.
#   tflm_app/kernels/fuzz/run_ma_decode_s8_fuzz.sh [RUNS] [extra libFuzzer flags]
# RUNS defaults to 1000000; corpus and crash files go to build/fuzz/ma_decode_s8 (outside git).
# At the end the harness prints how many inputs were valid (exact / banded) and each error status.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=$repo/build/fuzz/ma_decode_s8
runs=${1:-1000000}
[ $# -gt 0 ] && shift
mkdir -p "$out/corpus"
clang -std=c99 -O2 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$here/.." "$here/ma_decode_s8_fuzz.c" "$here/../ma_decode_s8.c" -o "$out/fuzz"
cd "$out"
MA_FUZZ_STATS=1 ./fuzz -runs="$runs" -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/" "$@" corpus

#!/bin/sh
# Builds and runs the libFuzzer harness of the transcript parser and the JSON line writer.
#   tflm_app/app/fuzz/run_ma_transcript_fuzz.sh [RUNS] [extra libFuzzer flags]
# RUNS defaults to 1000000; corpus and crash files go to build/fuzz/ma_transcript (outside git).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=$repo/build/fuzz/ma_transcript
runs=${1:-1000000}
[ $# -gt 0 ] && shift
mkdir -p "$out/corpus"
clang -std=c99 -O2 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$here/.." -I"$repo/tflm_app/kernels" -I"$repo/tflm_app/generated" \
  "$here/ma_transcript_fuzz.c" "$here/../ma_transcript.c" "$here/../ma_json.c" -lm -o "$out/fuzz"
[ -e "$out/corpus/seed" ] || printf "it's a test\n of the  parser" > "$out/corpus/seed"
cd "$out"
./fuzz -runs="$runs" -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/" "$@" corpus

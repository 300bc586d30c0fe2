// ma_tflm_run: run a .tflite (builtin int8 or the device model with FA_ATTENTION) in TFLM on
// the host, window after window. Used by microalign.export.tflm_host (the conversion's device
// check and the tests) to compare the device model with the builtin-only model byte for byte.
//
//   ma_tflm_run MODEL INPUT OUTPUT
//     INPUT:  raw bytes, n whole copies of input tensor 0 (one per window)
//     OUTPUT: written with n copies of output tensor 0
//   stdout: "windows=<n> arena=<bytes used>"; exit status 0, else 2 (usage, I/O),
//   3 (model does not load or prepare: TFLM's message on stderr), 4 (Invoke failed).
#include <cstdio>
#include <cstring>
#include <vector>

#include "fa_attention.h"
#include "ma_add_tflm.h"
#include "ma_fc_tflm.h"
#include "ma_log_softmax_tflm.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {

bool ReadFile(const char* path, std::vector<uint8_t>* out) {
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return false;
  uint8_t chunk[65536];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0) out->insert(out->end(), chunk, chunk + n);
  std::fclose(f);
  return true;
}

// Every builtin the converted students use (and a few neighbours), plus FA_ATTENTION; LOG_SOFTMAX
// is TFLM's builtin with its int8 path on ma_log_softmax_s8 (ma_log_softmax_tflm.h), ADD with its
// same-shape int8 path on ma_add_s8 (ma_add_tflm.h).
using Resolver = tflite::MicroMutableOpResolver<32>;
void AddOps(Resolver& r) {
  r.AddAdd(microalign::Register_ADD());  // same-shape int8: ma_add_s8 (bit-exact)
  r.AddBatchMatMul();
  r.AddConcatenation();
  r.AddConv2D(microalign::Register_CONV_2D());  // int8, height 1: ma_fc_s8 (bit-exact)
  r.AddDepthwiseConv2D(microalign::Register_DEPTHWISE_CONV_2D());  // int8, height 1: ma_fc_s8 (bit-exact)
  r.AddDequantize();
  r.AddFullyConnected(microalign::Register_FULLY_CONNECTED());  // int8: ma_fc_s8 (bit-exact)
  r.AddGather();
  r.AddLogSoftmax(microalign::Register_LOG_SOFTMAX());  // int8: ma_log_softmax_s8 (bit-exact)
  r.AddLogistic();
  r.AddMean();
  r.AddMul();
  r.AddPad();
  r.AddQuantize();
  r.AddRelu();
  r.AddReshape();
  r.AddRsqrt();
  r.AddSlice();
  r.AddSoftmax();
  r.AddSplit();
  r.AddSquaredDifference();
  r.AddStridedSlice();
  r.AddSub();
  r.AddTanh();
  r.AddTranspose();
  r.AddExpandDims();
  r.AddSqueeze();
  r.AddMaximum();
  r.AddMinimum();
  microalign::AddFaAttention(r);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL INPUT OUTPUT\n", argv[0]);
    return 2;
  }
  std::vector<uint8_t> model, input;
  if (!ReadFile(argv[1], &model) || !ReadFile(argv[2], &input)) {
    std::fprintf(stderr, "ma_tflm_run: cannot read %s or %s\n", argv[1], argv[2]);
    return 2;
  }
  // the flatbuffer must be aligned for TFLM: copy into 16-byte aligned storage
  std::vector<uint64_t> aligned((model.size() + 7) / 8 + 1);
  std::memcpy(aligned.data(), model.data(), model.size());
  static Resolver resolver;
  AddOps(resolver);
  std::vector<uint8_t> arena_store((16 << 20) + 16);
  uint8_t* arena = reinterpret_cast<uint8_t*>(
      (reinterpret_cast<uintptr_t>(arena_store.data()) + 15) & ~static_cast<uintptr_t>(15));
  const tflite::Model* m = tflite::GetModel(aligned.data());
  tflite::MicroInterpreter interp(m, resolver, arena, 16 << 20);
  if (interp.AllocateTensors() != kTfLiteOk) {
    std::fprintf(stderr, "ma_tflm_run: AllocateTensors failed for %s\n", argv[1]);
    return 3;
  }
  TfLiteTensor* in = interp.input(0);
  const size_t in_bytes = in->bytes;
  if (in_bytes == 0 || input.size() % in_bytes != 0) {
    std::fprintf(stderr, "ma_tflm_run: input has %zu bytes, not a multiple of the input tensor's %zu\n",
                 input.size(), in_bytes);
    return 2;
  }
  FILE* out = std::fopen(argv[3], "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "ma_tflm_run: cannot write %s\n", argv[3]);
    return 2;
  }
  const size_t n = input.size() / in_bytes;
  for (size_t w = 0; w < n; ++w) {
    std::memcpy(in->data.raw, input.data() + w * in_bytes, in_bytes);
    if (interp.Invoke() != kTfLiteOk) {
      std::fprintf(stderr, "ma_tflm_run: Invoke failed on window %zu\n", w);
      std::fclose(out);
      return 4;
    }
    const TfLiteTensor* o = interp.output(0);
    std::fwrite(o->data.raw, 1, o->bytes, out);
  }
  std::fclose(out);
  std::printf("windows=%zu arena=%zu\n", n, interp.arena_used_bytes());
  return 0;
}

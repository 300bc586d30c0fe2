// FA_ATTENTION adapter test, in the style of TFLM's own kernel tests (KernelRunner):
//  1. every case of ma_attention_s8_vectors.h (written by microalign.kernels.attention_oracle:
//     random shapes and quantisations, both MUL placements, windows; expected bytes from TFLM's
//     builtin subgraph, equal to the numpy reference microalign.kernels.attention_ref) run
//     through the adapter equals the expected output byte for byte;
//  2. Prepare rejects what the kernel does not compute: options that contradict the tensors'
//     quantisation, missing or malformed options, per-channel or non-int8 tensors, shapes that
//     do not fit, quantisation ma_attention_s8_params_init rejects;
//  3. a one-op .tflite built here (FlatBufferBuilder with an explicit DefaultAllocator: TFLM's
//     patched flatbuffers has no default) runs through a MicroInterpreter with the resolver.
// Prints one line per check; exit status = number of failed checks (0: all passed).
// Build and run: make -f tflm_app/Makefile.tflm VECTORS=<dir of the header> test
#include <cstdio>
#include <cstring>
#include <vector>

#include "fa_attention.h"
#include "flatbuffers/flexbuffers.h"
#include "ma_attention_s8_vectors.h"
#include "tensorflow/lite/micro/kernels/kernel_runner.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/test_helpers.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern "C" {
#include "ma_attention_s8.h"
}

namespace {

int g_failures = 0;
int g_checks = 0;
#define CHECK(cond, ...)                                  \
  do {                                                    \
    ++g_checks;                                           \
    if (!(cond)) {                                        \
      ++g_failures;                                       \
      std::printf("FAIL %s:%d: ", __FILE__, __LINE__);    \
      std::printf(__VA_ARGS__);                           \
      std::printf("\n");                                  \
    }                                                     \
  } while (0)

// A per-tensor quantised int8 tensor as the interpreter makes it (params and affine arrays).
struct QTensor {
  int dims[5];
  float scale_arr[2];
  int zp_arr[2];
  TfLiteAffineQuantization affine;
  TfLiteTensor tensor;
  void Make(int8_t* data, int h, int t, int d, float scale, int zp, int channels = 1) {
    dims[0] = 4, dims[1] = 1, dims[2] = h, dims[3] = t, dims[4] = d;
    scale_arr[0] = static_cast<float>(channels), scale_arr[1] = scale;
    zp_arr[0] = channels, zp_arr[1] = zp;
    affine.scale = tflite::testing::FloatArrayFromFloats(scale_arr);
    affine.zero_point = tflite::testing::IntArrayFromInts(zp_arr);
    affine.quantized_dimension = 0;
    tensor = tflite::testing::CreateQuantizedTensor(data, tflite::testing::IntArrayFromInts(dims),
                                                    scale, zp);
    tensor.quantization = {kTfLiteAffineQuantization, &affine};
  }
};

struct Options {  // what goes into the flexbuffer map
  const ma_att_case* c;
  bool with_scores = true;
  int repeat = 0;            // 1: repeat q/k/v/out quantisation (equal), 2: q_scale differs,
                             // 3: out_zp differs
  float s_scale_override = 0;
  bool garbage = false;
};

std::vector<uint8_t> MakeOptions(const Options& o) {
  if (o.garbage) return std::vector<uint8_t>{0xFF, 0x00, 0x13, 0x37, 0x01};
  const ma_att_case* c = o.c;
  flexbuffers::Builder fb;
  fb.Map([&] {
    if (o.with_scores) {
      fb.Double("s_scale", o.s_scale_override > 0 ? o.s_scale_override : c->s_scale);
      fb.Int("s_zp", c->s_zp);
    }
    if (c->has_qmul) {
      fb.Int("has_q_mul", 1);
      fb.Int("q_mul_value", c->qmul_const);
      fb.Double("q_mul_scale", c->qmul_const_scale);
      fb.Int("q_mul_zp", c->qmul_const_zp);
      fb.Double("q_mul_out_scale", c->qmul_out_scale);
      fb.Int("q_mul_out_zp", c->qmul_out_zp);
    }
    if (c->has_smul) {
      fb.Int("has_s_mul", 1);
      fb.Int("s_mul_value", c->smul_const);
      fb.Double("s_mul_scale", c->smul_const_scale);
      fb.Int("s_mul_zp", c->smul_const_zp);
      fb.Double("s_mul_out_scale", c->smul_out_scale);
      fb.Int("s_mul_out_zp", c->smul_out_zp);
    }
    fb.Double("softmax_beta", c->beta);
    if (c->window_left >= 0 || c->window_right >= 0) {
      fb.Int("window_left", c->window_left);
      fb.Int("window_right", c->window_right);
    }
    if (o.repeat) {
      fb.Double("q_scale", o.repeat == 2 ? c->q_scale * 1.0001f : c->q_scale);
      fb.Int("q_zp", c->q_zp);
      fb.Double("k_scale", c->k_scale);
      fb.Int("k_zp", c->k_zp);
      fb.Double("v_scale", c->v_scale);
      fb.Int("v_zp", c->v_zp);
      fb.Double("out_scale", c->o_scale);
      fb.Int("out_zp", o.repeat == 3 ? c->o_zp + 1 : c->o_zp);
    }
  });
  fb.Finish();
  return fb.GetBuffer();
}

struct Variant {  // what is changed in the tensors
  int out_channels = 1;      // 2: per-channel quantised output
  bool k_wrong_dim = false;  // k head_dim + 1
  bool v_int16 = false;
};

// Runs one case through KernelRunner. Returns Prepare's status; *diff = differing output bytes.
TfLiteStatus RunCase(const ma_att_case* c, const Options& opt, const Variant& var, long* diff) {
  const int H = c->heads, TQ = c->q_len, TK = c->kv_len, D = c->head_dim;
  std::vector<int8_t> q(c->q, c->q + H * TQ * D), k(c->k, c->k + H * TK * D),
      v(c->v, c->v + H * TK * D), out(H * TQ * D + 1, 0x5A);
  std::vector<int8_t> k_big(H * TK * (D + 1), 0);
  static QTensor t[4];
  t[0].Make(q.data(), H, TQ, D, c->q_scale, c->q_zp);
  if (var.k_wrong_dim)
    t[1].Make(k_big.data(), H, TK, D + 1, c->k_scale, c->k_zp);
  else
    t[1].Make(k.data(), H, TK, D, c->k_scale, c->k_zp);
  t[2].Make(v.data(), H, TK, D, c->v_scale, c->v_zp);
  if (var.v_int16) t[2].tensor.type = kTfLiteInt16;
  t[3].Make(out.data(), H, TQ, D, c->o_scale, c->o_zp, var.out_channels);
  TfLiteTensor tensors[4] = {t[0].tensor, t[1].tensor, t[2].tensor, t[3].tensor};
  int in_idx[] = {3, 0, 1, 2}, out_idx[] = {1, 3};
  const std::vector<uint8_t> options = MakeOptions(opt);
  tflite::micro::KernelRunner runner(*microalign::Register_FA_ATTENTION(), tensors, 4,
                                     tflite::testing::IntArrayFromInts(in_idx),
                                     tflite::testing::IntArrayFromInts(out_idx), nullptr);
  const TfLiteStatus st = runner.InitAndPrepare(reinterpret_cast<const char*>(options.data()),
                                                options.size());
  *diff = -1;
  if (st != kTfLiteOk) return st;
  if (runner.Invoke() != kTfLiteOk) return kTfLiteError;
  long n = 0;
  for (int i = 0; i < H * TQ * D; ++i) n += out[i] != c->out[i];
  n += out[H * TQ * D] != 0x5A;  // nothing written past the output
  *diff = n;
  return kTfLiteOk;
}

// ---------------------------------------------------------------- through the interpreter
std::vector<uint8_t> OneOpModel(const ma_att_case* c, const std::vector<uint8_t>& options) {
  flatbuffers::DefaultAllocator alloc;  // TFLM's flatbuffers patch: no implicit default
  flatbuffers::FlatBufferBuilder fbb(4096, &alloc);
  const int H = c->heads, TQ = c->q_len, TK = c->kv_len, D = c->head_dim;
  std::vector<flatbuffers::Offset<tflite::Tensor>> tensors;
  auto add = [&](const char* name, std::vector<int32_t> shape, float scale, int64_t zp) {
    auto q = tflite::CreateQuantizationParameters(fbb, 0, 0, fbb.CreateVector<float>({scale}),
                                                  fbb.CreateVector<int64_t>({zp}));
    tensors.push_back(tflite::CreateTensor(fbb, fbb.CreateVector(shape), tflite::TensorType_INT8, 0,
                                           fbb.CreateString(name), q));
  };
  add("q", {1, H, TQ, D}, c->q_scale, c->q_zp);
  add("k", {1, H, TK, D}, c->k_scale, c->k_zp);
  add("v", {1, H, TK, D}, c->v_scale, c->v_zp);
  add("out", {1, H, TQ, D}, c->o_scale, c->o_zp);
  const std::vector<int32_t> ins = {0, 1, 2}, outs = {3};
  auto op = tflite::CreateOperator(fbb, 0, fbb.CreateVector(ins), fbb.CreateVector(outs),
                                   tflite::BuiltinOptions_NONE, 0, fbb.CreateVector(options));
  auto sg = tflite::CreateSubGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(ins),
                                   fbb.CreateVector(outs), fbb.CreateVector(&op, 1));
  auto code = tflite::CreateOperatorCode(fbb, tflite::BuiltinOperator_CUSTOM,
                                         fbb.CreateString(microalign::kFaAttentionName), 1,
                                         tflite::BuiltinOperator_CUSTOM);
  auto buf = tflite::CreateBuffer(fbb);
  auto model = tflite::CreateModel(fbb, 3, fbb.CreateVector(&code, 1), fbb.CreateVector(&sg, 1),
                                   fbb.CreateString("fa_attention_test"), fbb.CreateVector(&buf, 1));
  tflite::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

alignas(16) uint8_t g_arena[512 * 1024];

// Runs one case through a MicroInterpreter; returns the number of differing output bytes, or -1
// when the model does not allocate or run.
long RunViaInterpreter(const ma_att_case* c, const std::vector<uint8_t>& options, size_t* arena) {
  const std::vector<uint8_t> buf = OneOpModel(c, options);
  static tflite::MicroMutableOpResolver<1> resolver;
  static bool once = microalign::AddFaAttention(resolver) == kTfLiteOk;
  if (!once) return -1;
  tflite::MicroInterpreter interp(tflite::GetModel(buf.data()), resolver, g_arena, sizeof(g_arena));
  if (interp.AllocateTensors() != kTfLiteOk) return -1;
  const int nq = c->heads * c->q_len * c->head_dim, nk = c->heads * c->kv_len * c->head_dim;
  std::memcpy(interp.input(0)->data.int8, c->q, nq);
  std::memcpy(interp.input(1)->data.int8, c->k, nk);
  std::memcpy(interp.input(2)->data.int8, c->v, nk);
  if (interp.Invoke() != kTfLiteOk) return -1;
  long diff = 0;
  for (int j = 0; j < nq; ++j) diff += interp.output(0)->data.int8[j] != c->out[j];
  *arena = interp.arena_used_bytes();
  return diff;
}

// KernelRunner's arena is 10,000 bytes: cases whose scratch does not fit there (long key
// sequences) run through a MicroInterpreter with a large arena instead.
bool FitsKernelRunner(const ma_att_case* c) {
  ma_attention_s8_dims d;
  ma_attention_s8_dims_contiguous(&d, c->heads, c->q_len, c->kv_len, c->head_dim);
  const int32_t scratch = ma_attention_s8_get_buffer_size(&d);
  return scratch >= 0 && scratch + static_cast<int32_t>(sizeof(ma_attention_s8_params)) + 4000 < 10000;
}

void TestVectors() {
  int passed = 0, via_interpreter = 0;
  for (int i = 0; i < MA_ATT_NUM_CASES; ++i) {
    const ma_att_case* c = &ma_att_cases[i];
    Options o;
    o.c = c;
    long diff = -1;
    TfLiteStatus st = kTfLiteOk;
    if (FitsKernelRunner(c)) {
      st = RunCase(c, o, Variant(), &diff);
    } else {
      size_t arena = 0;
      diff = RunViaInterpreter(c, MakeOptions(o), &arena);
      st = diff < 0 ? kTfLiteError : kTfLiteOk;
      ++via_interpreter;
    }
    CHECK(st == kTfLiteOk && diff == 0, "case %s: status %d, %ld bytes differ", c->name, st, diff);
    passed += st == kTfLiteOk && diff == 0;
  }
  std::printf("vectors: %d of %d cases equal the reference byte for byte (%d through the interpreter)\n",
              passed, MA_ATT_NUM_CASES, via_interpreter);
}

void TestPrepareRejects() {
  const ma_att_case* c = &ma_att_cases[1];  // a small case
  long diff;
  struct {
    const char* what;
    Options o;
    Variant v;
    bool ok;
  } rows[] = {
      {"repeated quantisation equal to the tensors'", {c, true, 1}, {}, true},
      {"option q_scale differs from tensor q", {c, true, 2}, {}, false},
      {"option out_zp differs from tensor out", {c, true, 3}, {}, false},
      {"options without s_scale/s_zp", {c, false, 0}, {}, false},
      {"options not a flexbuffer", {c, true, 0, 0, true}, {}, false},
      {"scores scale the kernel rejects (softmax left shift > 30)", {c, true, 0, 64.0f}, {}, false},
      {"per-channel quantised output", {c}, {2, false, false}, false},
      {"k head_dim differs from q", {c}, {1, true, false}, false},
      {"v not int8", {c}, {1, false, true}, false},
  };
  for (auto& r : rows) {
    const TfLiteStatus st = RunCase(c, r.o, r.v, &diff);
    const bool ok = st == kTfLiteOk;
    CHECK(ok == r.ok && (!ok || diff == 0), "prepare: %s: status %d (want %s), diff %ld", r.what,
          st, r.ok ? "ok" : "error", diff);
    std::printf("prepare %s: %s\n", ok ? "accepts" : "rejects", r.what);
  }
}

void TestInterpreter() {
  for (int i = 0; i < MA_ATT_NUM_CASES && i < 4; ++i) {
    const ma_att_case* c = &ma_att_cases[i];
    Options o;
    o.c = c;
    size_t arena = 0;
    const long diff = RunViaInterpreter(c, MakeOptions(o), &arena);
    CHECK(diff == 0, "interpreter %s: %ld bytes differ (-1: did not run)", c->name, diff);
    std::printf("interpreter %s: %ld bytes differ, arena %u B\n", c->name, diff, static_cast<unsigned>(arena));
  }
}

}  // namespace

int main() {
  TestVectors();
  TestPrepareRejects();
  TestInterpreter();
  std::printf("%s: %d of %d checks failed\n", g_failures ? "FAIL" : "PASS", g_failures, g_checks);
  return g_failures > 255 ? 255 : g_failures;
}

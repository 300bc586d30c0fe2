// Host test: one-op models (FA_DECODE, FA_ATTENTION) built here with the TFLite schema, run
// through a MicroInterpreter; every output must equal the plain C kernel's on the same inputs.
// Returns the number of failed checks. Build: make -f tflm_app/Makefile.tflm TFLM_ROOT=... test
#include <cstdio>
#include <cstring>
#include <vector>

#include "fa_ops.h"
#include "flatbuffers/flexbuffers.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_op_resolver.h"
#include "tensorflow/lite/micro/micro_utils.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern "C" {
#include "ma_attention_s8.h"
#include "ma_decode_s8.h"
}

namespace {

int g_failures = 0;
#define CHECK(cond, ...)                              \
  do {                                                \
    if (!(cond)) {                                    \
      ++g_failures;                                   \
      std::printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      std::printf(__VA_ARGS__);                        \
      std::printf("\n");                              \
    }                                                 \
  } while (0)

uint32_t g_rng = 12345;
int32_t Rand(int32_t lo, int32_t hi) {  // inclusive
  g_rng = g_rng * 1664525u + 1013904223u;
  return lo + static_cast<int32_t>((g_rng >> 8) % static_cast<uint32_t>(hi - lo + 1));
}

struct TensorSpec {
  std::vector<int32_t> shape;
  tflite::TensorType type;
  float scale;  // 0: no quantisation
  int64_t zp;
};

// One subgraph, one custom op: tensors [inputs..., outputs...].
std::vector<uint8_t> OneOpModel(const char* op, const std::vector<TensorSpec>& ins,
                                const std::vector<TensorSpec>& outs,
                                const std::vector<uint8_t>& options) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<tflite::Tensor>> tensors;
  std::vector<int32_t> in_idx, out_idx;
  auto add = [&](const TensorSpec& s, std::vector<int32_t>& idx) {
    flatbuffers::Offset<tflite::QuantizationParameters> q = 0;
    if (s.scale > 0)
      q = tflite::CreateQuantizationParameters(fbb, 0, 0, fbb.CreateVector<float>({s.scale}),
                                               fbb.CreateVector<int64_t>({s.zp}));
    idx.push_back(static_cast<int32_t>(tensors.size()));
    tensors.push_back(tflite::CreateTensor(fbb, fbb.CreateVector(s.shape), s.type, 0, 0, q));
  };
  for (const auto& s : ins) add(s, in_idx);
  for (const auto& s : outs) add(s, out_idx);
  auto oper = tflite::CreateOperator(fbb, 0, fbb.CreateVector(in_idx), fbb.CreateVector(out_idx),
                                     tflite::BuiltinOptions_NONE, 0,
                                     fbb.CreateVector(options));
  auto sg = tflite::CreateSubGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(in_idx),
                                   fbb.CreateVector(out_idx), fbb.CreateVector(&oper, 1));
  auto code = tflite::CreateOperatorCode(fbb, tflite::BuiltinOperator_CUSTOM,
                                         fbb.CreateString(op), 1, tflite::BuiltinOperator_CUSTOM);
  auto buf = tflite::CreateBuffer(fbb);
  auto model = tflite::CreateModel(fbb, 3, fbb.CreateVector(&code, 1), fbb.CreateVector(&sg, 1),
                                   fbb.CreateString("fa_ops_test"), fbb.CreateVector(&buf, 1));
  tflite::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

alignas(16) uint8_t g_arena[256 * 1024];
// The two custom ops only (MicroMutableOpResolver's header needs TFLM's signal/ library).
class CustomOnlyResolver : public tflite::MicroOpResolver {
 public:
  TfLiteStatus AddCustom(const char* name, const TFLMRegistration* reg) {
    if (n_ == 2) return kTfLiteError;
    // As MicroMutableOpResolver::AddCustom does: the interpreter reads these two fields.
    regs_[n_] = *reg;
    regs_[n_].builtin_code = tflite::BuiltinOperator_CUSTOM;
    regs_[n_].custom_name = name;
    names_[n_++] = name;
    return kTfLiteOk;
  }
  const TFLMRegistration* FindOp(tflite::BuiltinOperator) const override { return nullptr; }
  const TFLMRegistration* FindOp(const char* op) const override {
    for (int i = 0; i < n_; ++i)
      if (std::strcmp(op, names_[i]) == 0) return &regs_[i];
    return nullptr;
  }
  tflite::TfLiteBridgeBuiltinParseFunction GetOpDataParser(tflite::BuiltinOperator) const override {
    return nullptr;
  }

 private:
  const char* names_[2] = {};
  TFLMRegistration regs_[2] = {};
  int n_ = 0;
};

CustomOnlyResolver& Resolver() {
  static CustomOnlyResolver r;
  static bool once = (microalign::AddFaDecode(r), microalign::AddFaAttention(r), true);
  (void)once;
  return r;
}

// ------------------------------------------------------------------------------- decode
void TestDecode(int T, int V, std::vector<int32_t> ids, std::vector<int32_t> lens, int cmax,
                int nmax, bool with_status, int32_t penalty) {
  flexbuffers::Builder fb;
  fb.Map([&] { fb.Int("band", 0); fb.Int("beam", 64); fb.Int("silence_penalty", penalty); });
  fb.Finish();
  std::vector<TensorSpec> outs = {{{nmax, 4}, tflite::TensorType_INT32, 0, 0},
                                  {{cmax, 2}, tflite::TensorType_INT32, 0, 0}};
  if (with_status) outs.push_back({{2}, tflite::TensorType_INT32, 0, 0});
  auto model_buf = OneOpModel("FA_DECODE",
                              {{{1, T, V}, tflite::TensorType_INT8, 1.f / 16, 127},
                               {{cmax}, tflite::TensorType_INT32, 0, 0},
                               {{nmax}, tflite::TensorType_INT32, 0, 0}},
                              outs, fb.GetBuffer());
  tflite::MicroInterpreter interp(tflite::GetModel(model_buf.data()), Resolver(), g_arena,
                                  sizeof(g_arena));
  if (interp.AllocateTensors() != kTfLiteOk) { CHECK(false, "decode AllocateTensors"); return; }
  std::vector<int8_t> scores(T * V);
  for (auto& s : scores) s = static_cast<int8_t>(Rand(-128, 0));
  std::memcpy(interp.input(0)->data.int8, scores.data(), scores.size());
  int32_t* in_ids = interp.input(1)->data.i32;
  int32_t* in_lens = interp.input(2)->data.i32;
  for (int i = 0; i < cmax; ++i) in_ids[i] = i < (int)ids.size() ? ids[i] : 0;
  for (int i = 0; i < nmax; ++i) in_lens[i] = i < (int)lens.size() ? lens[i] : 0;
  TfLiteStatus st = interp.Invoke();

  // Reference: the C kernel on the same inputs.
  const int C = ids.size(), N = lens.size();
  ma_decode_s8_params p = {0, 64, penalty};
  int32_t size = ma_decode_s8_get_buffer_size(T, C, N, 0);
  std::vector<int32_t> scratch(size / 4 + 1), ts(C), te(C), ws(N), we(N), wsum(N), wf(N);
  int32_t path = 0;
  ma_decode_s8_output out = {ts.data(), te.data(), ws.data(), we.data(), wsum.data(), wf.data(), &path};
  int32_t rc = ma_decode_s8(&p, scores.data(), T, V, ids.data(), C, lens.data(), N,
                            scratch.data(), size, &out);
  if (!with_status) {
    CHECK((st == kTfLiteOk) == (rc == MA_DECODE_OK), "decode invoke %d vs rc %d", st, rc);
    if (st != kTfLiteOk) return;
  } else {
    CHECK(st == kTfLiteOk, "decode invoke with status output");
    const int32_t* s = interp.output(2)->data.i32;
    CHECK(s[0] == rc, "status %d vs %d", s[0], rc);
    if (rc == MA_DECODE_OK) CHECK(s[1] == path, "path score %d vs %d", s[1], path);
  }
  const int32_t* w = interp.output(0)->data.i32;
  const int32_t* t = interp.output(1)->data.i32;
  for (int i = 0; i < nmax; ++i) {
    const bool ok = rc == MA_DECODE_OK && i < N;
    const int32_t want[4] = {ok ? ws[i] : -1, ok ? we[i] : -1, ok ? wsum[i] : -1, ok ? wf[i] : -1};
    for (int c = 0; c < 4; ++c) CHECK(w[4 * i + c] == want[c], "word %d col %d: %d vs %d", i, c, w[4 * i + c], want[c]);
  }
  for (int i = 0; i < cmax; ++i) {
    const bool ok = rc == MA_DECODE_OK && i < C;
    CHECK(t[2 * i] == (ok ? ts[i] : -1) && t[2 * i + 1] == (ok ? te[i] : -1), "token %d", i);
  }
  std::printf("FA_DECODE T=%d C=%d N=%d rc=%d: %s\n", T, C, N, rc, g_failures ? "..." : "ok");
}

// ---------------------------------------------------------------------------- attention
void TestAttention(int H, int Tq, int Tk, int D, int wl, int wr, bool q_mul) {
  ma_attention_s8_quant q = {};
  q.q = {0.05f, 3};
  q.k = {0.04f, -2};
  q.v = {0.03f, 1};
  q.scores = {0.08f, -5};
  q.out = {0.02f, 0};
  q.softmax_beta = 1.0f;
  if (q_mul) {
    q.has_q_mul = 1;
    q.q_mul = {90, {0.35355339f / 127, 0}, {0.02f, 2}};
  }
  flexbuffers::Builder fb;
  fb.Map([&] {
    fb.Float("q_scale", q.q.scale); fb.Int("q_zp", q.q.zero_point);
    fb.Float("k_scale", q.k.scale); fb.Int("k_zp", q.k.zero_point);
    fb.Float("v_scale", q.v.scale); fb.Int("v_zp", q.v.zero_point);
    fb.Float("s_scale", q.scores.scale); fb.Int("s_zp", q.scores.zero_point);
    fb.Float("out_scale", q.out.scale); fb.Int("out_zp", q.out.zero_point);
    fb.Int("has_q_mul", q.has_q_mul); fb.Int("q_mul_value", q.q_mul.value);
    fb.Float("q_mul_scale", q.q_mul.value_q.scale); fb.Int("q_mul_zp", q.q_mul.value_q.zero_point);
    fb.Float("q_mul_out_scale", q.q_mul.out.scale); fb.Int("q_mul_out_zp", q.q_mul.out.zero_point);
    fb.Float("softmax_beta", 1.0f);
    fb.Int("window_left", wl); fb.Int("window_right", wr);
  });
  fb.Finish();
  auto model_buf = OneOpModel("FA_ATTENTION",
                              {{{1, H, Tq, D}, tflite::TensorType_INT8, q.q.scale, q.q.zero_point},
                               {{1, H, Tk, D}, tflite::TensorType_INT8, q.k.scale, q.k.zero_point},
                               {{1, H, Tk, D}, tflite::TensorType_INT8, q.v.scale, q.v.zero_point}},
                              {{{1, H, Tq, D}, tflite::TensorType_INT8, q.out.scale, q.out.zero_point}},
                              fb.GetBuffer());
  tflite::MicroInterpreter interp(tflite::GetModel(model_buf.data()), Resolver(), g_arena,
                                  sizeof(g_arena));
  if (interp.AllocateTensors() != kTfLiteOk) { CHECK(false, "attention AllocateTensors"); return; }
  std::vector<int8_t> x[3] = {std::vector<int8_t>(H * Tq * D), std::vector<int8_t>(H * Tk * D),
                              std::vector<int8_t>(H * Tk * D)};
  for (int i = 0; i < 3; ++i) {
    for (auto& e : x[i]) e = static_cast<int8_t>(Rand(-128, 127));
    std::memcpy(interp.input(i)->data.int8, x[i].data(), x[i].size());
  }
  CHECK(interp.Invoke() == kTfLiteOk, "attention invoke");
  static ma_attention_s8_params params;
  CHECK(ma_attention_s8_params_init(&params, &q) == MA_ATTENTION_S8_OK, "params_init");
  ma_attention_s8_dims dims;
  ma_attention_s8_dims_contiguous(&dims, H, Tq, Tk, D);
  dims.window_left = wl;
  dims.window_right = wr;
  std::vector<uint32_t> scratch(ma_attention_s8_get_buffer_size(&dims) / 4 + 1);
  std::vector<int8_t> want(H * Tq * D);
  CHECK(ma_attention_s8(&params, &dims, x[0].data(), x[1].data(), x[2].data(), want.data(),
                        scratch.data(), scratch.size() * 4) == MA_ATTENTION_S8_OK, "kernel");
  int diff = 0;
  for (size_t i = 0; i < want.size(); ++i) diff += interp.output(0)->data.int8[i] != want[i];
  CHECK(diff == 0, "attention: %d bytes differ", diff);
  std::printf("FA_ATTENTION H=%d Tq=%d Tk=%d D=%d window=(%d,%d) q_mul=%d: %d bytes differ, arena %u B\n",
              H, Tq, Tk, D, wl, wr, q_mul, diff, (unsigned)interp.arena_used_bytes());
}

}  // namespace

// fa_ops_test decode IN OUT: run FA_DECODE (with status output) on a vectors file.
// IN: int32 T, V, Cmax, Nmax, silence_penalty, band, beam; int8 scores [T*V]; int32 ids [Cmax];
//     int32 lens [Nmax] (little endian, packed). OUT: int32 status[2], word_spans [Nmax*4],
//     token_spans [Cmax*2]. Used by tests/test_tflm_adapters.py against the numpy reference.
int DecodeFile(const char* in_path, const char* out_path) {
  FILE* f = std::fopen(in_path, "rb");
  if (!f) return 2;
  int32_t h[7];
  if (std::fread(h, 4, 7, f) != 7) return 2;
  const int T = h[0], V = h[1], cmax = h[2], nmax = h[3];
  std::vector<int8_t> scores(T * V);
  std::vector<int32_t> ids(cmax), lens(nmax);
  if (std::fread(scores.data(), 1, scores.size(), f) != scores.size() ||
      std::fread(ids.data(), 4, cmax, f) != (size_t)cmax ||
      std::fread(lens.data(), 4, nmax, f) != (size_t)nmax)
    return 2;
  std::fclose(f);
  flexbuffers::Builder fb;
  fb.Map([&] { fb.Int("silence_penalty", h[4]); fb.Int("band", h[5]); fb.Int("beam", h[6]); });
  fb.Finish();
  auto model_buf = OneOpModel("FA_DECODE",
                              {{{1, T, V}, tflite::TensorType_INT8, 1.f / 16, 127},
                               {{cmax}, tflite::TensorType_INT32, 0, 0},
                               {{nmax}, tflite::TensorType_INT32, 0, 0}},
                              {{{nmax, 4}, tflite::TensorType_INT32, 0, 0},
                               {{cmax, 2}, tflite::TensorType_INT32, 0, 0},
                               {{2}, tflite::TensorType_INT32, 0, 0}},
                              fb.GetBuffer());
  static std::vector<uint8_t> arena(8 << 20);
  tflite::MicroInterpreter interp(tflite::GetModel(model_buf.data()), Resolver(), arena.data(),
                                  arena.size());
  if (interp.AllocateTensors() != kTfLiteOk) return 3;
  std::memcpy(interp.input(0)->data.int8, scores.data(), scores.size());
  std::memcpy(interp.input(1)->data.i32, ids.data(), 4 * cmax);
  std::memcpy(interp.input(2)->data.i32, lens.data(), 4 * nmax);
  if (interp.Invoke() != kTfLiteOk) return 4;
  f = std::fopen(out_path, "wb");
  if (!f) return 2;
  std::fwrite(interp.output(2)->data.i32, 4, 2, f);
  std::fwrite(interp.output(0)->data.i32, 4, 4 * nmax, f);
  std::fwrite(interp.output(1)->data.i32, 4, 2 * cmax, f);
  std::fclose(f);
  return 0;
}

// fa_ops_test run MODEL: AllocateTensors + Invoke a model made only of FA_* ops (e.g. the
// surgery's device flatbuffer of a test graph); int8 inputs random, token_ids 1, 2, ...,
// word_lengths 1, 1, 0, ... Prints the custom options' effect: op count, arena, status.
int RunFile(const char* path) {
  FILE* f = std::fopen(path, "rb");
  if (!f) return 2;
  std::vector<uint8_t> buf;
  for (int c; (c = std::fgetc(f)) != EOF;) buf.push_back(static_cast<uint8_t>(c));
  std::fclose(f);
  static std::vector<uint8_t> arena(8 << 20);
  tflite::MicroInterpreter interp(tflite::GetModel(buf.data()), Resolver(), arena.data(),
                                  arena.size());
  if (interp.AllocateTensors() != kTfLiteOk) return 3;
  for (size_t i = 0; i < interp.inputs_size(); ++i) {
    TfLiteTensor* t = interp.input(i);
    const int n = tflite::ElementCount(*t->dims);
    for (int j = 0; j < n; ++j) {
      if (t->type == kTfLiteInt8) t->data.int8[j] = static_cast<int8_t>(Rand(-128, 0));
      else if (t->type == kTfLiteInt32) t->data.i32[j] = i + 2 == interp.inputs_size() ? 1 + j % 27 : (j < 2);
    }
  }
  if (interp.Invoke() != kTfLiteOk) return 4;
  const TfLiteTensor* st = interp.output(interp.outputs_size() - 1);
  std::printf("RUN OK arena=%u status=%d\n",
              (unsigned)interp.arena_used_bytes(), st->type == kTfLiteInt32 ? st->data.i32[0] : -99);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "run") == 0) return RunFile(argv[2]);
  if (argc == 4 && std::strcmp(argv[1], "decode") == 0) return DecodeFile(argv[2], argv[3]);
  TestDecode(40, 28, {1, 2, 3}, {2, 1}, 8, 3, false, 0);
  TestDecode(40, 28, {1, 2, 3}, {2, 1}, 8, 3, true, 5);
  TestDecode(30, 28, {5, 5, 5, 7, 9, 9}, {3, 1, 2}, 6, 3, true, -3);  // repeats, full buffers
  TestDecode(1, 28, {4}, {1}, 1, 1, true, 0);                          // one frame, one token
  TestDecode(3, 28, {1, 2, 3, 4}, {4}, 4, 1, true, 0);                 // too short: status -3
  TestDecode(3, 28, {1, 2, 3, 4}, {4}, 4, 1, false, 0);                // too short: Invoke fails
  TestDecode(200, 28, {3, 8, 1, 20, 20, 9, 14}, {3, 4}, 16, 4, true, 2);
  TestDecode(12, 28, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {4, 4, 4}, 12, 3, true, 0);  // C == T
  TestAttention(2, 12, 12, 8, -1, -1, false);
  TestAttention(4, 20, 20, 16, 3, 0, true);
  TestAttention(1, 5, 9, 4, -1, -1, true);
  std::printf("%s: %d failed checks\n", g_failures ? "FAIL" : "PASS", g_failures);
  return g_failures > 255 ? 255 : g_failures;
}

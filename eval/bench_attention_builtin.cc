// The builtin TFLite Micro ops the fused attention kernel replaces, for instruction counting on
// the Cortex-M7 (eval/bench_attention.py). Built against a TFLM source tree (TFLM_ROOT, with
// gemmlowp's fixedpoint/ on the include path); never committed with it.
//
// bench_builtin_prepare computes what the ops' Prepare functions compute (QuantizeMultiplier,
// PreprocessSoftmaxScaling, CalculateInputRadius, with TFLM's own functions); bench_builtin_eval
// makes the reference-kernel calls the ops' Eval functions make, in graph order:
//   MUL (EvalMulQuantizedReference: ProcessBroadcastShapes, BroadcastMul4DSlow for the scalar)
//   BATCH_MATMUL adj_y (EvalInt8: reference_ops::BatchMatMul with rhs and lhs swapped)
//   SOFTMAX (reference_ops::Softmax int8 -> int8)
//   BATCH_MATMUL (TransposeRowsColumns of v each Eval, then reference_ops::BatchMatMul)
// Left out: the interpreter's per-op dispatch and BATCH_MATMUL's ReshapeToFlattenBatchDims (shape
// bookkeeping only). The SOFTMAX may run in place (probs == scores): the reference loop reads
// each input element before writing the same position, so the instruction count is unchanged.
#include <cstdint>
#include <limits>

#include "tensorflow/lite/kernels/internal/quantization_util.h"
#include "tensorflow/lite/kernels/internal/reference/batch_matmul.h"
#include "tensorflow/lite/kernels/internal/reference/integer_ops/mul.h"
#include "tensorflow/lite/kernels/internal/reference/process_broadcast_shapes.h"
#include "tensorflow/lite/kernels/internal/reference/softmax.h"
#include "tensorflow/lite/kernels/internal/reference/transpose.h"

extern "C" {
#include "bench_attention_builtin.h"
}

namespace {

tflite::ArithmeticParams g_mul;
tflite::FullyConnectedParams g_bmm1, g_bmm2;
tflite::SoftmaxParams g_softmax;

void bmm_params(float lhs_scale, int lhs_zp, float rhs_scale, int rhs_zp, float out_scale, int out_zp,
                tflite::FullyConnectedParams* p) {
  // BatchMatMulPrepare: GetQuantizedConvolutionMultipler (float product), QuantizeMultiplier
  const double real = static_cast<double>(lhs_scale * rhs_scale) / static_cast<double>(out_scale);
  tflite::QuantizeMultiplier(real, &p->output_multiplier, &p->output_shift);
  p->input_offset = -lhs_zp;
  p->weights_offset = -rhs_zp;
  p->output_offset = out_zp;
  p->quantized_activation_min = std::numeric_limits<int8_t>::min();
  p->quantized_activation_max = std::numeric_limits<int8_t>::max();
  p->lhs_cacheable = p->rhs_cacheable = false;
}

}  // namespace

extern "C" void bench_builtin_prepare(const bench_attention_quant* q) {
  g_mul = tflite::ArithmeticParams();
  const double mul_real = static_cast<double>(q->q_scale) * static_cast<double>(q->c_scale) /
                          static_cast<double>(q->q2_scale);
  tflite::QuantizeMultiplier(mul_real, &g_mul.output_multiplier, &g_mul.output_shift);
  g_mul.input1_offset = -q->q_zp;
  g_mul.input2_offset = -q->c_zp;
  g_mul.output_offset = q->q2_zp;
  g_mul.quantized_activation_min = -128;
  g_mul.quantized_activation_max = 127;
  bmm_params(q->q2_scale, q->q2_zp, q->k_scale, q->k_zp, q->s_scale, q->s_zp, &g_bmm1);
  bmm_params(1.0f / 256.0f, -128, q->v_scale, q->v_zp, q->o_scale, q->o_zp, &g_bmm2);
  int left_shift;
  tflite::PreprocessSoftmaxScaling(static_cast<double>(q->beta), static_cast<double>(q->s_scale), 5,
                                   &g_softmax.input_multiplier, &left_shift);
  g_softmax.input_left_shift = left_shift;
  g_softmax.diff_min = -1.0 * tflite::CalculateInputRadius(5, left_shift);
}

extern "C" void bench_builtin_eval(int heads, int t, int dk, const int8_t* q, const int8_t* c, const int8_t* k,
                                   const int8_t* v, int8_t* q2, int8_t* scores, int8_t* probs, int8_t* vt,
                                   int8_t* out) {
  using tflite::RuntimeShape;
  const int32_t qkv_dims[4] = {1, heads, t, dk}, s_dims[4] = {1, heads, t, t};
  const int32_t q2_swapped_dims[4] = {1, heads, dk, t};
  const RuntimeShape qkv_shape(4, qkv_dims), s_shape(4, s_dims), scalar_shape;

  // MUL(q, c)
  tflite::ArithmeticParams mul = g_mul;
  if (tflite::reference_ops::ProcessBroadcastShapes(qkv_shape, scalar_shape, &mul)) {
    tflite::reference_integer_ops::BroadcastMul4DSlow(mul, qkv_shape, q, scalar_shape, c, qkv_shape, q2);
  } else {
    tflite::reference_integer_ops::Mul(mul, qkv_shape, q, scalar_shape, c, qkv_shape, q2);
  }

  // BATCH_MATMUL(q2, k, adj_y): rhs passed first; lhs shape has rows and columns swapped
  const RuntimeShape q2_swapped(4, q2_swapped_dims);
  tflite::reference_ops::BatchMatMul<int8_t, int32_t>(g_bmm1, qkv_shape, k, q2_swapped, q2, s_shape, scores);

  // SOFTMAX
  tflite::reference_ops::Softmax(g_softmax, s_shape, scores, s_shape, probs);

  // BATCH_MATMUL(probs, v): v transposed every Eval (not a constant), then the same kernel
  tflite::TransposeParams tp;
  tp.perm_count = 4;
  tp.perm[0] = 0;
  tp.perm[1] = 1;
  tp.perm[2] = 3;
  tp.perm[3] = 2;
  const RuntimeShape vt_shape(4, q2_swapped_dims);
  tflite::reference_ops::Transpose(tp, qkv_shape, v, vt_shape, vt);
  // lhs shape with rows and columns swapped: [t, t] stays [t, t]
  tflite::reference_ops::BatchMatMul<int8_t, int32_t>(g_bmm2, vt_shape, vt, s_shape, probs, qkv_shape, out);
}

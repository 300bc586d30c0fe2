/* The build's own kernel (TFLM's reference, or CMSIS-NN's in a CMSIS-NN build) running a node that one of
 * our adapters (ma_add_tflm.cc, ma_log_softmax_tflm.cc) does not take: broadcasting, other types, other
 * rounding builds. The adapter keeps a Fallback in its own user data; the built-in kernel's user data is
 * swapped into the node around each of its calls, so both kernels see their own.
 *
 *   Prepare: if (not ours) return PrepareFallback(tflite::Register_ADD(), context, node, &data->fallback, data);
 *   Eval:    if (data->fallback.active) return InvokeFallback(tflite::Register_ADD(), context, node, data->fallback, data);
 */
#ifndef MICROALIGN_TFLM_MA_TFLM_FALLBACK_H
#define MICROALIGN_TFLM_MA_TFLM_FALLBACK_H

#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_common.h"

namespace microalign {

struct Fallback {
  int active;         // 1: the built-in kernel runs this node
  void* user_data;    // what its Init and Prepare left in node->user_data
};

// Init (when the kernel has one) and Prepare of the built-in kernel `reg`; its user data goes to `fb`,
// and `self` (the adapter's user data, which holds `fb`) back into the node.
inline TfLiteStatus PrepareFallback(const TFLMRegistration& reg, TfLiteContext* context, TfLiteNode* node,
                                    Fallback* fb, void* self) {
  node->user_data = reg.init != nullptr ? reg.init(context, nullptr, 0) : nullptr;
  const TfLiteStatus s = reg.prepare(context, node);
  fb->active = 1;
  fb->user_data = node->user_data;
  node->user_data = self;
  return s;
}

// Eval of the built-in kernel `reg` with its own user data.
inline TfLiteStatus InvokeFallback(const TFLMRegistration& reg, TfLiteContext* context, TfLiteNode* node,
                                   const Fallback& fb, void* self) {
  node->user_data = fb.user_data;
  const TfLiteStatus s = reg.invoke(context, node);
  node->user_data = self;
  return s;
}

}  // namespace microalign

#endif  // MICROALIGN_TFLM_MA_TFLM_FALLBACK_H

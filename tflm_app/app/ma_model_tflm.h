/* ma_model_tflm.h: ma_model.h on TensorFlow Lite Micro (MicroInterpreter, the builtin kernels the
 * students use and FA_ATTENTION). C-callable; the implementation (ma_model_tflm.cc) is C++17 and
 * needs a TFLM tree (TFLM_ROOT / TFLM_M7_ROOT, see tflm_app/Makefile.tflm and app/README.md).
 *
 *   ma_model *m;
 *   ma_status s = ma_model_tflm_create(img.model, img.model_size, arena, sizeof arena, &m);
 *
 * create() runs the flatbuffers Verifier on the model, checks the schema version, builds the
 * interpreter in the arena (the flatbuffer is used in place: memory-mapped QSPI works, XIP) and
 * checks the tensors: input int8 [1, W, n_mels] fed the frontend's int8 features unchanged
 * (scale 1/32, zero point 0), output int8 [1, W, n_vocab]. One model per program (static state).
 * MA_ERR_MODEL with ma_model_tflm_error() saying why. */
#ifndef MA_MODEL_TFLM_H
#define MA_MODEL_TFLM_H

#include <stdint.h>

#include "ma_model.h"

#ifdef __cplusplus
extern "C" {
#endif

ma_status ma_model_tflm_create(const uint8_t *flatbuffer, uint32_t size, uint8_t *arena, uint32_t arena_bytes,
                               ma_model **out);
/* Arena bytes the interpreter used (after a successful create). */
uint32_t ma_model_tflm_arena_used(const ma_model *m);
const char *ma_model_tflm_error(void);

/* Staged weight mode (built with -DMA_WEIGHTS_STAGED; default: XIP, the flatbuffer used in place).
 * Each operator's constant tensors are copied from the image into a staging buffer (two halves,
 * each the model's largest operator's constants) before it runs, the next operator's copy started
 * while it computes; the flatbuffer's metadata stays memory-mapped. The buffer and the plan are
 * sized from the model at create and taken from the end of the arena (arena_tail_bytes; the
 * interpreter gets the rest, ma_model_tflm_arena_used counts only its part). Numbers of the plan
 * and of the copies so far; MA_ERR_MODEL in an XIP build. */
typedef struct {
    uint32_t ops;              /* operators of the subgraph */
    uint32_t tensors;          /* constant tensors staged per Invoke */
    uint32_t bytes_per_invoke; /* image (QSPI) bytes read per Invoke, i.e. per window */
    uint32_t max_op_bytes;     /* the largest operator's constants, 16-byte aligned (<= buffer_bytes / 2) */
    uint32_t buffer_bytes;     /* the staging buffer (both halves, each max_op_bytes rounded up to 32) */
    uint32_t arena_tail_bytes; /* the staging buffer and the plan, taken from the end of the arena */
    uint32_t copies;           /* DMA copies issued so far */
    uint64_t bytes_copied;     /* bytes copied so far */
} ma_model_tflm_staging_info;
ma_status ma_model_tflm_staging(ma_model_tflm_staging_info *info);

#ifdef __cplusplus
}
#endif

#endif /* MA_MODEL_TFLM_H */

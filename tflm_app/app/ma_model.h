/* ma_model.h: the one thing the aligner needs from the model runtime -- scores for one window.
 *
 * Implementations: ma_model_tflm.cc (TFLM MicroInterpreter with FA_ATTENTION registered, weights
 * from the image's model section; to be written against the TFLM tree, see README.md) and test
 * doubles (tests replay window scores recorded from the host's TFLM backend). No TFLM types here. */
#ifndef MA_MODEL_H
#define MA_MODEL_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ma_model ma_model; /* opaque, defined by the implementation */

typedef struct {
    uint32_t window_frames; /* W: frames per window (the model's fixed input length) */
    uint32_t n_mels;        /* features per frame */
    uint32_t n_vocab;       /* score columns: silence + the token table's characters */
    double scale;           /* quantisation of the int8 scores (the output tensor's float scale) */
    int32_t zero_point;
} ma_model_info;

ma_status ma_model_get_info(ma_model *m, ma_model_info *info);

/* The model's own input buffer, int8 [window_frames][n_mels] (the interpreter's input tensor), or
 * NULL. The aligner computes each window's features straight into it, so no second window of
 * features sits in SRAM and none is copied. Its contents are undefined once ma_model_run_window
 * has run (the runtime may reuse the memory for activations, the scores included): write the next
 * window only after reading the previous scores. */
int8_t *ma_model_input(ma_model *m);

/* Run one window: feats int8 [window_frames][n_mels] -> *scores int8 [window_frames][n_vocab],
 * valid until the next call (typically the interpreter's output tensor). feats may be
 * ma_model_input(m) (nothing is copied) or any other buffer. MA_ERR_MODEL when the runtime fails. */
ma_status ma_model_run_window(ma_model *m, const int8_t *feats, const int8_t **scores);

#ifdef __cplusplus
}
#endif

#endif /* MA_MODEL_H */

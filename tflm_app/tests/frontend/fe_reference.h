/* fe_reference.h: direct-definition power spectrum (test oracle, see fe_reference.c). */
#ifndef FE_REFERENCE_H
#define FE_REFERENCE_H

#include <stdint.h>

#include "microalign_frontend_config.h"

/* Same contract as ma_frontend_power_frame: x[MA_FE_WIN] -> pw[MA_FE_N_BINS]. */
void fe_reference_power_frame(const int16_t *x, int64_t *pw);

#endif

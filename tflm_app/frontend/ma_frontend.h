/* ma_frontend.h: the fixed-point log-mel frontend (int16 PCM -> int8 features) in C99.
 *
 * Bit-exact with microalign.frontend.features.features_from_pcm (the definition;
 * tests/test_frontend_c.py compares them byte for byte on the host and under QEMU).
 * Constants and tables come from generated/microalign_frontend_config.h.
 *
 *     int16_t pcm[N];                                  // 16 kHz mono
 *     int8_t feats[MAX_FRAMES][MA_FE_N_MELS];
 *     int32_t t = ma_frontend_compute(pcm, N, &feats[0][0], MAX_FRAMES);
 *     if (t < 0) { ... bad arguments ... }
 *     // t == min(ma_frontend_num_frames(N), MAX_FRAMES) frames of MA_FE_N_MELS bytes
 *
 * No allocation, no global state, reentrant. Stack (arm-none-eabi-gcc -O2, -fstack-usage):
 * 4.3 KB for ma_frontend_compute_frame (2 KB of power spectrum + 2 KB of FFT buffer, or of the
 * DFT's folds), 5.2 KB through ma_frontend_compute (edge frames are copied zero-padded to an
 * 800-byte buffer).
 * The power-spectrum definition follows features.DEFINITION through the generated
 * MA_FE_DEFINITION_FFT (1 = fixed-point FFT, 0 = direct Q15 DFT); compile with
 * -DMA_FE_DEFINITION_FFT=0/1 to override it.
 * Frame t covers samples [t*HOP - PAD_LEFT, t*HOP - PAD_LEFT + WIN) of the signal,
 * zeros outside it; there are ceil(n / HOP) frames.
 */
#ifndef MA_FRONTEND_H
#define MA_FRONTEND_H

#include <stdint.h>

#include "microalign_frontend_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (negative returns). */
#define MA_FRONTEND_ERR_ARG (-1)

/* Number of feature frames for n_samples samples: ceil(n_samples / MA_FE_HOP); 0 for n_samples <= 0. */
int32_t ma_frontend_num_frames(int32_t n_samples);

/* One frame.
 * frame_samples: MA_FE_WIN samples, frame_samples[0] = pcm[t*HOP - PAD_LEFT] (caller zero-pads
 *                outside the signal); any int16 value.
 * out:           MA_FE_N_MELS int8 features in [-128, 127].
 * Both non-NULL (not checked). */
void ma_frontend_compute_frame(const int16_t *frame_samples, int8_t *out);

/* Steps 1-4 of one frame, for tests and diagnostics: power[k], k < MA_FE_N_BINS, each in
 * [0, 2^44) (features.power_spectrum), by the definition MA_FE_DEFINITION_FFT selects. */
void ma_frontend_power_frame(const int16_t *frame_samples, int64_t *power);

/* The two definitions, whatever MA_FE_DEFINITION_FFT says: the fixed-point FFT
 * (features.power_spectrum(frames, "fft")) and the direct Q15 DFT ("dft"). */
void ma_frontend_power_frame_fft(const int16_t *frame_samples, int64_t *power);
void ma_frontend_power_frame_dft(const int16_t *frame_samples, int64_t *power);

/* Frames [first_frame, first_frame + count) of the n-sample signal pcm, written to
 * out[(t - first_frame) * MA_FE_N_MELS ...]. Lets a caller produce features in chunks.
 * Returns count, or MA_FRONTEND_ERR_ARG when pcm or out is NULL (out may be NULL if count == 0),
 * n <= 0, first_frame < 0, count < 0 or first_frame + count > ma_frontend_num_frames(n). */
int32_t ma_frontend_compute_frames(const int16_t *pcm, int32_t n, int32_t first_frame, int32_t count,
                                   int8_t *out);

/* The whole signal: writes min(ma_frontend_num_frames(n), max_frames) frames
 * (out: [frames][MA_FE_N_MELS]) and returns that number, or MA_FRONTEND_ERR_ARG when pcm or
 * out is NULL, n <= 0 or max_frames < 0. */
int32_t ma_frontend_compute(const int16_t *pcm, int32_t n, int8_t *out, int32_t max_frames);

#ifdef __cplusplus
}
#endif

#endif /* MA_FRONTEND_H */

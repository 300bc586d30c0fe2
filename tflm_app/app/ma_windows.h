/* ma_windows.h: the window schedule and owner-rule stitching of microalign.runtime.windows, in C.
 *
 * An utterance of n frames is scored in windows of W frames (MA_WINDOW_FRAMES): one window when
 * n <= W, else windows starting every W - 2 * margin frames plus one flush with the end
 * (window_starts). Each frame takes its scores from the window whose centre is nearest, the
 * earlier window on a tie (window_owners: argmin |f + 0.5 - (s + W / 2)|), computed here in
 * integers. Owned frames are contiguous: window k owns [own_begin, own_end). */
#ifndef MA_WINDOWS_H
#define MA_WINDOWS_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t start;      /* first frame of the window (frames past n are padded with MA_FEATURE_FLOOR) */
    uint32_t own_begin;  /* frames [own_begin, own_end) take rows [own_begin - start, own_end - start) */
    uint32_t own_end;
} ma_window;

/* Number of windows over n_frames (>= 1), or MA_ERR_ARGUMENT when window <= 2 * margin or
 * n_frames == 0. */
int32_t ma_window_count(uint32_t n_frames, uint32_t window, uint32_t margin);

/* Window k (k < ma_window_count) of the schedule. */
ma_status ma_window_get(uint32_t n_frames, uint32_t window, uint32_t margin, uint32_t k, ma_window *out);

#ifdef __cplusplus
}
#endif

#endif /* MA_WINDOWS_H */

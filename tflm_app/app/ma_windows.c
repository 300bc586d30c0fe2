/* ma_windows.c: see ma_windows.h. */
#include "ma_windows.h"

#include <stddef.h>

int32_t ma_window_count(uint32_t n_frames, uint32_t window, uint32_t margin)
{
    if (n_frames == 0 || window == 0 || margin >= window / 2 + (window & 1u) || n_frames > 0x3FFFFFFFu ||
        window > 0x3FFFFFFFu) {
        return MA_ERR_ARGUMENT; /* needs window - 2 * margin >= 1 */
    }
    if (n_frames <= window) return 1;
    uint32_t hop = window - 2u * margin, span = n_frames - window;
    return (int32_t)((span + hop - 1u) / hop + 1u); /* range(0, span, hop) + [span] */
}

static uint32_t start_of(uint32_t n_frames, uint32_t window, uint32_t margin, uint32_t k, uint32_t count)
{
    if (n_frames <= window) return 0;
    return k + 1u == count ? n_frames - window : k * (window - 2u * margin);
}

/* First frame owned by window k + 1 rather than k: the smallest f with
 * |2f + 1 - C1| < |2f + 1 - C0| (C = 2 * start + window, doubled centres), i.e. 4f + 2 > C0 + C1. */
static uint32_t boundary(uint32_t s0, uint32_t s1, uint32_t window)
{
    uint64_t sum = 2u * (uint64_t)s0 + 2u * (uint64_t)s1 + 2u * (uint64_t)window;
    return (uint32_t)((sum - 2u) / 4u + 1u);
}

ma_status ma_window_get(uint32_t n_frames, uint32_t window, uint32_t margin, uint32_t k, ma_window *out)
{
    int32_t count = ma_window_count(n_frames, window, margin);
    if (count < 0) return count;
    if (out == NULL || k >= (uint32_t)count) return MA_ERR_ARGUMENT;
    uint32_t c = (uint32_t)count, s = start_of(n_frames, window, margin, k, c);
    out->start = s;
    out->own_begin = k == 0 ? 0u : boundary(start_of(n_frames, window, margin, k - 1u, c), s, window);
    out->own_end = k + 1u == c ? n_frames : boundary(s, start_of(n_frames, window, margin, k + 1u, c), window);
    if (out->own_begin > out->own_end) out->own_begin = out->own_end; /* a window that owns nothing */
    return MA_OK;
}

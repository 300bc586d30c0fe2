/* ma_status.h: the one status and buffer-size convention of microalign's C code.
 *
 * Every function that can fail returns an int32_t status: MA_OK (0) or a
 * negative MA_ERR_* code below. Functions that report a buffer size return
 * int32_t bytes (>= 0) or a negative MA_ERR_* code when their arguments are
 * invalid; a size never silently becomes 0. Library-specific codes, where a
 * library needs more detail, are aliases of these (e.g. MA_DECODE_ERR_TOO_SHORT
 * == MA_ERR_TOO_SHORT) so a caller can always print ma_status_str(code).
 *
 * The Python references use the same numbers (microalign.decode._core.STATUS_*).
 */
#ifndef MA_STATUS_H
#define MA_STATUS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t ma_status;

#define MA_OK 0
#define MA_ERR_ARGUMENT (-1)  /* NULL pointer, size, stride or parameter out of range */
#define MA_ERR_TOKEN (-2)     /* token id / transcript not accepted */
#define MA_ERR_TOO_SHORT (-3) /* input too short for what was asked (e.g. more characters than frames) */
#define MA_ERR_SCRATCH (-4)   /* scratch NULL, misaligned or smaller than the reported size */
#define MA_ERR_QUANT (-5)     /* quantisation that the kernel cannot reproduce or TFLM would reject */
#define MA_ERR_IMAGE (-6)     /* weight image corrupt, truncated or built for other headers */
#define MA_ERR_IO (-7)        /* audio source / console / flash read failed */
#define MA_ERR_MODEL (-8)     /* model does not load, verify or run */

/* A short English description of a status ("ok", "bad argument", ...); never NULL. */
static inline const char *ma_status_str(ma_status s) {
  switch (s) {
    case MA_OK: return "ok";
    case MA_ERR_ARGUMENT: return "bad argument";
    case MA_ERR_TOKEN: return "bad token or transcript";
    case MA_ERR_TOO_SHORT: return "input too short";
    case MA_ERR_SCRATCH: return "scratch buffer missing, misaligned or too small";
    case MA_ERR_QUANT: return "unsupported quantisation";
    case MA_ERR_IMAGE: return "weight image corrupt, truncated or mismatched";
    case MA_ERR_IO: return "input/output error";
    case MA_ERR_MODEL: return "model failed to load or run";
    default: return "unknown status";
  }
}

#ifdef __cplusplus
}
#endif

#endif /* MA_STATUS_H */

/* ma_dsp.h: the Cortex-M DSP-extension instructions the int8 kernels use, one copy.
 *
 * Where the compiler targets a core with the DSP extension (GCC or clang), each function is the instruction itself
 * (the ACLE intrinsic where ACLE has one, one line of inline assembly where it does not); elsewhere it is the
 * instruction's exact C emulation, which the kernels' host builds of their DSP loops use (MA_*_EMULATE_DSP: the
 * sanitizers and the fuzzers run the Cortex-M7 path's loop structure). Packed operands are plain 32-bit words: two
 * int16 halves (low half first) or four int8 bytes. Plain C99 apart from the inline assembly. */
#ifndef MA_DSP_H
#define MA_DSP_H

#include <stdint.h>
#include <string.h>

/* four bytes at p (any alignment) as one word: one LDR on the M7 (unaligned access is allowed on v7-M) */
static inline uint32_t ma_rd32(const void *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w;
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && (defined(__GNUC__) || defined(__clang__))
#define MA_DSP_NATIVE 1
#include <arm_acle.h>

/* the bytes 0 and 2 of x, sign-extended to two int16 halves */
static inline uint32_t ma_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int8x4_t)x); }
/* the bytes 1 and 3 (SXTB16 with ROR #8; ACLE has no rotation operand) */
static inline uint32_t ma_sxtb16_ror8(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
/* a's halves + the bytes 0 and 2 of x */
static inline uint32_t ma_sxtab16(uint32_t a, uint32_t x) { return (uint32_t)__sxtab16((int16x2_t)a, (int8x4_t)x); }
/* a's halves + the bytes 1 and 3 of x */
static inline uint32_t ma_sxtab16_ror8(uint32_t a, uint32_t x) {
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}
/* acc + lo(a) lo(b) + hi(a) hi(b), wrapping */
static inline int32_t ma_smlad(uint32_t a, uint32_t b, int32_t acc) {
  return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}
/* the halves of a minus those of b, each wrapping to int16 */
static inline uint32_t ma_ssub16(uint32_t a, uint32_t b) { return (uint32_t)__ssub16((int16x2_t)a, (int16x2_t)b); }
/* acc + lo(a) lo(b) and acc + hi(a) lo(b), wrapping */
static inline int32_t ma_smlabb(uint32_t a, uint32_t b, int32_t acc) { return __smlabb((int32_t)a, (int32_t)b, acc); }
static inline int32_t ma_smlatb(uint32_t a, uint32_t b, int32_t acc) { return __smlatb((int32_t)a, (int32_t)b, acc); }
/* acc + hi(a) hi(b), wrapping */
static inline int32_t ma_smlatt(uint32_t a, uint32_t b, int32_t acc) { return __smlatt((int32_t)a, (int32_t)b, acc); }
/* (a b + 2^31) >> 32, the rounded high word (ACLE has no SMMULR) */
static inline int32_t ma_smmulr(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* acc + ((a b + 2^31) >> 32), wrapping (ACLE has no SMMLAR) */
static inline int32_t ma_smmlar(int32_t a, int32_t b, int32_t acc) {
  int32_t r;
  __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
/* x clamped to -128 .. 127 */
static inline int32_t ma_ssat8(int32_t x) {
  int32_t r;
  __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
  return r;
}

#else
#define MA_DSP_NATIVE 0

static inline uint32_t ma_dsp_pack16(int32_t lo, int32_t hi) { return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16); }
static inline int32_t ma_dsp_lo16(uint32_t x) { return (int32_t)(int16_t)(x & 0xFFFFu); }
static inline int32_t ma_dsp_hi16(uint32_t x) { return (int32_t)(int16_t)(x >> 16); }
static inline uint32_t ma_dsp_ror8(uint32_t x) { return (x >> 8) | (x << 24); }

static inline uint32_t ma_sxtb16(uint32_t x) { return ma_dsp_pack16((int8_t)(x & 0xFFu), (int8_t)((x >> 16) & 0xFFu)); }
static inline uint32_t ma_sxtb16_ror8(uint32_t x) { return ma_sxtb16(ma_dsp_ror8(x)); }
static inline uint32_t ma_sxtab16(uint32_t a, uint32_t x) {
  return ma_dsp_pack16(ma_dsp_lo16(a) + (int8_t)(x & 0xFFu), ma_dsp_hi16(a) + (int8_t)((x >> 16) & 0xFFu));
}
static inline uint32_t ma_sxtab16_ror8(uint32_t a, uint32_t x) { return ma_sxtab16(a, ma_dsp_ror8(x)); }
static inline int32_t ma_smlad(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(ma_dsp_lo16(a) * ma_dsp_lo16(b)) +
                   (uint32_t)(ma_dsp_hi16(a) * ma_dsp_hi16(b)));
}
static inline uint32_t ma_ssub16(uint32_t a, uint32_t b) {
  return ma_dsp_pack16(ma_dsp_lo16(a) - ma_dsp_lo16(b), ma_dsp_hi16(a) - ma_dsp_hi16(b));
}
static inline int32_t ma_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(ma_dsp_lo16(a) * ma_dsp_lo16(b)));
}
static inline int32_t ma_smlatb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(ma_dsp_hi16(a) * ma_dsp_lo16(b)));
}
static inline int32_t ma_smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(ma_dsp_hi16(a) * ma_dsp_hi16(b)));
}
static inline int32_t ma_smmulr(int32_t a, int32_t b) { return (int32_t)(((int64_t)a * (int64_t)b + 0x80000000ll) >> 32); }
static inline int32_t ma_smmlar(int32_t a, int32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)ma_smmulr(a, b));
}
static inline int32_t ma_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
#endif

#endif /* MA_DSP_H */

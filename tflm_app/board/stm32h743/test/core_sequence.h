/* core_sequence.h: see core_sequence.c */
#ifndef MA_H743_CORE_SEQUENCE_H
#define MA_H743_CORE_SEQUENCE_H
#include <stdint.h>
int32_t ma_test_core(int32_t st[4]);
#endif

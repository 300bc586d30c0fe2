// ma_tflm_log.cc: TFLM's DebugLog / DebugVsnprintf (tensorflow/lite/micro/debug_log.h) on a board
// layer, for the firmware builds that link TFLM without its cortex_m_generic debug_log.cc. TFLM
// logs only on failures (a missing operator, an arena too small); each message goes to the board
// console as one "# tflm: ..." line, so it never looks like a JSON line of the output.
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "tensorflow/lite/micro/debug_log.h"

extern "C" {
#include "board.h"
}

extern "C" void DebugLog(const char* format, va_list args) {
  static bool at_line_start = true;
  char text[192];
  if (std::vsnprintf(text, sizeof text, format, args) <= 0) return;
  for (const char* c = text; *c; ++c) {  // MicroPrintf sends the message, then "\r\n"
    if (*c == '\r') continue;
    if (at_line_start) ma_board_console_write("# tflm: ", 8);
    ma_board_console_write(c, 1);
    at_line_start = *c == '\n';
  }
}

extern "C" int DebugVsnprintf(char* buffer, size_t buf_size, const char* format, va_list vlist) {
  return std::vsnprintf(buffer, buf_size, format, vlist);
}

# The one source list of tflm_app/: every build includes it (app/Makefile: firmware, test firmware,
# host; the STM32CubeIDE project is checked against it), and Python reads it
# (tflm_app/app/firmware.py: read_sources()).
#
# Format (kept simple so Python can parse it): `NAME = words` or `NAME += words`, `\` continues a
# line, `#` starts a comment; paths are relative to tflm_app/. No make functions or references.

# ---- pure C99 libraries (host, every board) ----
MA_FRONTEND_SRCS = frontend/ma_frontend.c
MA_KERNEL_SRCS = kernels/ma_decode_s8.c kernels/ma_refine_s8.c kernels/ma_attention_s8.c
MA_KERNEL_SRCS += kernels/ma_log_softmax_s8.c
MA_KERNEL_SRCS += kernels/ma_add_s8.c
MA_KERNEL_SRCS += kernels/ma_fc_s8.c
# the application's parts that need neither a model nor a board (image reader, transcript, windows, JSON)
MA_APP_SRCS = app/ma_image.c app/ma_hash.c app/ma_transcript.c app/ma_windows.c app/ma_json.c
# the device's calibrated confidence and quality warnings (ma_quality.h)
MA_APP_SRCS += app/ma_quality.c
# the aligner (ma_aligner.h: frontend -> model windows -> decode -> JSON) and the firmware's main()
MA_ALIGNER_SRCS = app/ma_aligner.c
MA_MAIN_SRCS = app/main.c

# ---- the model on TFLite Micro (C++17): the ma_model.h adapter and the FA_ATTENTION operator ----
MA_TFLM_SRCS = app/ma_model_tflm.cc tflm/fa_attention.cc
# LOG_SOFTMAX's int8 path on kernels/ma_log_softmax_s8 (the builtin's registration in both resolvers)
MA_TFLM_SRCS += tflm/ma_log_softmax_tflm.cc
# ADD's same-shape int8 path on kernels/ma_add_s8 (the builtin's registration in both resolvers)
MA_TFLM_SRCS += tflm/ma_add_tflm.cc
# FULLY_CONNECTED's and 1-D CONV_2D's int8 paths on kernels/ma_fc_s8 (the builtins' registration in both resolvers)
MA_TFLM_SRCS += tflm/ma_fc_tflm.cc tflm/ma_conv_tflm.cc tflm/ma_dwconv_tflm.cc
# TFLM's DebugLog on the board console (Cortex-M builds; the host build uses TFLM's own)
MA_TFLM_MCU_SRCS = app/ma_tflm_log.cc
# TFLM's kernels the model runner registers (ma_model_tflm.cc's resolver, AddOps: keep in step): file stems
# under tensorflow/lite/micro/kernels/ (or kernels/cmsis_nn/), each with its *_common.cc when there is one
MA_TFLM_KERNELS = activations add batch_matmul concatenation conv depthwise_conv dequantize elementwise \
    expand_dims fully_connected gather log_softmax logistic mul pad quantize reduce reshape slice softmax split \
    squared_difference squeeze strided_slice sub tanh transpose
# internal-flash weight mode (MODE=flash): the weight image linked into the firmware's flash
MA_FLASH_IMAGE_SRCS = app/ma_flash_image.S

# include folders of every build
MA_INCLUDE_DIRS = app board kernels generated frontend tflm

# ---- boards: MA_BOARD_<board>_SRCS (C sources), MA_BOARD_<board>_LD (linker script) ----
# (board/ma_cortex_m_rt.c: the Cortex-M7 start-up every MCU board lists: reset, stack paint, faults, newlib calls)
MA_BOARD_host_SRCS = board/host/board_host.c
MA_BOARD_mps2_an500_SRCS = board/mps2_an500/board_mps2_an500.c board/mps2_an500/startup_mps2_an500.c \
    board/ma_cortex_m_rt.c
MA_BOARD_mps2_an500_LD = board/mps2_an500/memory_plan.ld
# STM32H743 (register level, issue 12); also the source list of cube_project/ (cube_project/generate.py)
MA_BOARD_stm32h743_SRCS = board/stm32h743/board_stm32h743.c board/stm32h743/h743_clock.c \
    board/stm32h743/h743_gpio.c board/stm32h743/h743_mdma.c board/stm32h743/h743_mpu_cache.c \
    board/stm32h743/h743_qspi.c board/stm32h743/h743_sdram.c board/stm32h743/h743_usart.c \
    board/stm32h743/startup_stm32h743.c board/ma_cortex_m_rt.c
MA_BOARD_stm32h743_LD = board/stm32h743/stm32h743.ld

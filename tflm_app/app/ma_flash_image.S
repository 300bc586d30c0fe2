/* ma_flash_image.S: the internal-flash weight mode (MODE=flash). The weight image file
 * (student_qspi.bin, MA_FLASH_IMAGE_FILE="path", given by app/Makefile's IMAGE=) is linked into
 * the firmware's read-only data, i.e. the MCU's own flash (0x08000000 on the STM32H743; the FLASH
 * region of board/mps2_an500/memory_plan.ld on QEMU). main.c opens it exactly as a QSPI image:
 * CRC-32, SHA-256 of the model and of the generated headers, flatbuffers Verifier.
 * 32-byte aligned: the image's sections are 16-byte aligned relative to its start. */
#ifndef MA_FLASH_IMAGE_FILE
#error "MA_FLASH_IMAGE_FILE (the weight image to link, a quoted path) is not defined"
#endif
    .section .rodata.ma_flash_image, "a"
    .balign 32
    .global ma_flash_image
    .type ma_flash_image, %object
ma_flash_image:
    .incbin MA_FLASH_IMAGE_FILE
    .global ma_flash_image_end
ma_flash_image_end:
    .size ma_flash_image, ma_flash_image_end - ma_flash_image

#!/bin/sh
# Runs an application firmware on QEMU's mps2-an500 (Cortex-M7) with the weight image and the input
# block loaded into PSRAM where board_mps2_an500.c expects them; exits with the firmware's exit code
# (254 = CPU fault, 124 = timeout).
#   IMAGE=student_qspi.bin INPUT=input.bin run.sh app.elf [PLUGIN.so[,args]]
# IMAGE goes to 0x60000000 (the "QSPI flash"), INPUT to 0x60200000 (export/image.py
# write_input_block); either may be unset. QEMU_TIMEOUT (seconds, default 300) bounds the run.
# With MA_BOARD_CONSOLE_UART firmware, set SERIAL=stdio to see UART0.
set -u
elf=$1
timeout=${QEMU_TIMEOUT:-300}
set -- "$@"
extra=""
[ -n "${IMAGE:-}" ] && extra="$extra -device loader,file=$IMAGE,addr=0x60000000,force-raw=on"
[ -n "${INPUT:-}" ] && extra="$extra -device loader,file=$INPUT,addr=0x60200000,force-raw=on"
plugin=""
[ $# -ge 2 ] && plugin="-plugin $2 -d plugin"
# shellcheck disable=SC2086
exec timeout "$timeout" qemu-system-arm -M mps2-an500 -nographic -monitor none -serial "${SERIAL:-none}" \
  -semihosting-config enable=on,target=native -kernel "$elf" $extra $plugin

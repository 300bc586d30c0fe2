#!/bin/sh
# Runs a test firmware under QEMU (mps2-an500, Cortex-M7) and exits with its exit code
# (main()'s return value; 254 = CPU fault; 124 = timeout).
#   run.sh app.elf                       # plain run
#   run.sh app.elf PLUGIN.so[,args]      # with a TCG plugin, e.g. qemu-insn's insn_range.so
#                                        # (its report goes to stderr: total_insns=N range_insns=M)
# QEMU_TIMEOUT (seconds, default 300) bounds the run.
set -u
elf=$1
timeout=${QEMU_TIMEOUT:-300}
if [ $# -ge 2 ]; then
  exec timeout "$timeout" qemu-system-arm -M mps2-an500 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$elf" -plugin "$2" -d plugin
fi
exec timeout "$timeout" qemu-system-arm -M mps2-an500 -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -kernel "$elf"

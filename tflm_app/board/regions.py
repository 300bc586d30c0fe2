"""Bytes per memory region of a firmware ELF: the linker script's MEMORY block and the ELF's sections.

    python tflm_app/board/regions.py build/app/microalign_app_stm32h743_xip.elf tflm_app/board/stm32h743/stm32h743.ld

prints ``arm-none-eabi-size -A`` and then one line per region (used / size, the sections in it). A section
counts where it lives at run time (its VMA: ``.data`` in DTCM, ``.bss``, the stack) and, when the ELF
carries its bytes (LOAD: ``.text``, ``.data``'s initial values), also where it is loaded from (its LMA:
``.data`` in FLASH too). Section addresses come from ``arm-none-eabi-objdump -h``; nothing but binutils
and the linker script is read. Used by tests/test_cube_project.py (the H743 ELF fits its memories) and
usable for every board (``board/mps2_an500/memory_plan.ld``).
"""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

_UNITS = {"": 1, "K": 1024, "M": 1024 * 1024}
_MEMORY_LINE = re.compile(
    r"^\s*(?P<name>\w+)\s*(?:\((?P<attr>[!rwxaiRWXAIlL]*)\))?\s*:\s*ORIGIN\s*=\s*(?P<origin>[\w +]+?)\s*,"
    r"\s*LENGTH\s*=\s*(?P<length>[\w +]+?)\s*$")
_ASSIGN = re.compile(r"^\s*(?P<name>\w+)\s*=\s*(?:DEFINED\((?P<cond>\w+)\)\s*\?\s*(?P<yes>\w+)\s*:\s*)?"
                     r"(?P<value>\w+)\s*;", re.M)


def _number(token: str, symbols: dict[str, int], where: str) -> int:
    """A number (0x.., decimal, with K/M), a symbol, or a sum of them."""
    if "+" in token:
        return sum(_number(t.strip(), symbols, where) for t in token.split("+"))
    if token in symbols:
        return symbols[token]
    m = re.fullmatch(r"(0x[0-9a-fA-F]+|\d+)([KM]?)", token)
    if m is None:
        raise RegionError(f"{where}: {token!r} is neither a number nor a symbol assigned before MEMORY")
    return int(m.group(1), 0) * _UNITS[m.group(2)]


class RegionError(ValueError):
    """A linker script without a readable MEMORY block, or a section outside every region."""


@dataclass
class Region:
    name: str
    origin: int
    length: int
    used: int = 0
    sections: list[tuple[str, int]] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.origin + self.length

    def holds(self, addr: int, size: int) -> bool:
        return self.origin <= addr and addr + size <= self.end

    def __str__(self) -> str:
        parts = ", ".join(f"{n} {s:,}" for n, s in self.sections) or "-"
        pct = 100.0 * self.used / self.length if self.length else 0.0
        return f"{self.name:8s} 0x{self.origin:08x} {self.used:>11,} / {self.length:>11,} B ({pct:5.1f} %)  {parts}"


def memory_regions(linker_script: str | Path, defined: tuple[str, ...] = ()) -> list[Region]:
    """The MEMORY block of a GNU ld script: name, ORIGIN and LENGTH (numbers with K/M, or symbols assigned
    before the block, ``NAME = DEFINED(X) ? a : b;`` taking ``a`` when X is in ``defined``)."""
    text = Path(linker_script).read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    m = re.search(r"\bMEMORY\s*\{(?P<body>[^}]*)\}", text)
    if m is None:
        raise RegionError(f"{linker_script}: no MEMORY block")
    symbols: dict[str, int] = {}
    for a in _ASSIGN.finditer(text[:m.start()]):
        token = a["yes"] if a["cond"] and a["cond"] in defined else a["value"]
        symbols[a["name"]] = _number(token, symbols, str(linker_script))
    regions = []
    for line in m.group("body").splitlines():
        if not line.strip():
            continue
        r = _MEMORY_LINE.match(line)
        if r is None:
            raise RegionError(f"{linker_script}: cannot read the MEMORY line {line.strip()!r}")
        regions.append(Region(r["name"], _number(r["origin"], symbols, str(linker_script)),
                              _number(r["length"], symbols, str(linker_script))))
    if not regions:
        raise RegionError(f"{linker_script}: empty MEMORY block")
    return regions


@dataclass
class Section:
    name: str
    size: int
    vma: int
    lma: int
    flags: frozenset[str]


def elf_sections(elf: str | Path, objdump: str = "arm-none-eabi-objdump") -> list[Section]:
    """The ELF's allocated sections (``objdump -h``): name, size, VMA, LMA, flags."""
    out = subprocess.run([objdump, "-h", str(elf)], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    sections = []
    for i, line in enumerate(lines):
        m = re.match(r"^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+\S+\s*$", line)
        if m is None:
            continue
        flags = frozenset(f.strip() for f in lines[i + 1].split(",")) if i + 1 < len(lines) else frozenset()
        if "ALLOC" not in flags:
            continue
        sections.append(Section(m[1], int(m[2], 16), int(m[3], 16), int(m[4], 16), flags))
    return sections


def region_usage(elf: str | Path, linker_script: str | Path, objdump: str = "arm-none-eabi-objdump") -> list[Region]:
    """Bytes of each MEMORY region used by the ELF (see the module docstring). An allocated, non-empty
    section outside every region is a RegionError: the linker script and the ELF do not belong together."""
    regions = memory_regions(linker_script)
    for sec in elf_sections(elf, objdump):
        if sec.size == 0:
            continue
        places = [sec.vma] + ([sec.lma] if "LOAD" in sec.flags and sec.lma != sec.vma else [])
        for addr in places:
            home = next((r for r in regions if r.holds(addr, sec.size)), None)
            if home is None:
                raise RegionError(f"section {sec.name} (0x{addr:08x}, {sec.size} B) lies outside every region of "
                                  f"{linker_script}")
            home.used += sec.size
            home.sections.append((sec.name + (" (load)" if addr != sec.vma else ""), sec.size))
    return regions


def size_a(elf: str | Path, size: str = "arm-none-eabi-size") -> str:
    """``arm-none-eabi-size -A`` of the ELF, as printed."""
    return subprocess.run([size, "-A", str(elf)], capture_output=True, text=True, check=True).stdout


def report(elf: str | Path, linker_script: str | Path) -> str:
    """``size -A`` followed by the per-region table."""
    regions = region_usage(elf, linker_script)
    return size_a(elf) + "\n".join(str(r) for r in regions) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    regions = region_usage(argv[0], argv[1])
    print(size_a(argv[0]), end="")
    over = [r for r in regions if r.used > r.length]
    for r in regions:
        print(r)
    for r in over:
        print(f"error: region {r.name} overflows by {r.used - r.length:,} B", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())

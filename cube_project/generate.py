"""Write the STM32CubeIDE project (.project, .cproject, .ioc) from the command-line build.

    .venv/bin/python cube_project/generate.py                 # rewrite cube_project/.project, .cproject, microalign.ioc
    .venv/bin/python cube_project/generate.py --check         # exit 1 if the committed files differ

The source list and every compiler flag come from the Makefile itself: ``make -Bn BOARD=stm32h743 MODE=<mode>
elf-tflm`` (tflm_app/app/Makefile, which reads tflm_app/sources.mk) prints each compile and the link command of
the H743 firmware, and this script turns them into CDT's managed-build settings; nothing is typed in by hand.
Two configurations:

- ``STM32H743I-EVAL`` (STM32H743XIHx): weights in the QSPI flash, used in place (MODE=xip);
- ``NUCLEO-H743ZI`` (STM32H743ZITx): no QSPI flash, the weight image linked into the internal flash
  (MODE=flash, ``app/ma_flash_image.S`` including ``cube_project/student_qspi.bin``), 8 MHz HSE from the
  ST-LINK's MCO (bypass).

The project links the files, it copies nothing: ``tflm_app`` sources through ``PARENT-1-PROJECT_LOC``
(the repository next to the project), TFLM's through the path variable ``TFLM_ROOT`` (a tree written by
TFLM's ``create_tflm_tree.py``; default ``../shared/tflm/cortex-m7-cmsis-nn`` beside the repository, set it
in Project > Properties > Resource > Linked Resources). The TFLM file list is the Makefile's for the tree
given with ``--tflm-root`` (default: that same tree); regenerate for another tree.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TFLM_APP = REPO / "tflm_app"
PROJECT = "microalign"
DEFAULT_TFLM_ROOT = REPO.parent / "shared" / "tflm" / "cortex-m7-cmsis-nn"
TFLM_ROOT_VALUE = "$%7BPARENT-2-PROJECT_LOC%7D/shared/tflm/cortex-m7-cmsis-nn"  # ../shared/... beside the repo
IMAGE_IN_PROJECT = "../student_qspi.bin"  # MODE=flash: relative to the configuration's build folder
ST = "com.st.stm32cube.ide.mcu.gnu.managedbuild"


@dataclass(frozen=True)
class Config:
    name: str
    mcu: str
    mode: str
    defines: tuple[str, ...]
    board: str


CONFIGS = (
    Config("STM32H743I-EVAL", "STM32H743XIHx", "xip", (), "STM32H743I-EVAL"),
    Config("NUCLEO-H743ZI", "STM32H743ZITx", "flash", ("MA_BOARD_NUCLEO_H743ZI",), "NUCLEO-H743ZI"),
)


class GenerateError(RuntimeError):
    """make did not print the commands this script understands."""


@dataclass
class Group:
    """Sources compiled with one command line (all flags but -c SRC -o OBJ and the dependency flags)."""
    tool: str                  # "c", "cpp" or "asm"
    flags: tuple[str, ...]
    sources: list[Path] = field(default_factory=list)

    @property
    def defines(self) -> list[str]:
        return [f[2:] for f in self.flags if f.startswith("-D")]

    @property
    def includes(self) -> list[Path]:
        return [Path(f[2:]) for f in self.flags if f.startswith("-I")]

    @property
    def system_includes(self) -> list[Path]:
        return [Path(self.flags[i + 1]) for i, f in enumerate(self.flags) if f == "-isystem"]

    @property
    def optimization(self) -> str:
        return next((f for f in reversed(self.flags) if re.fullmatch(r"-O[0-3sgz]|-Ofast", f)), "-O0")

    @property
    def other(self) -> list[str]:
        """Flags without a dedicated CubeIDE option (kept in 'other flags')."""
        out, skip = [], False
        for i, f in enumerate(self.flags):
            if skip:
                skip = False
                continue
            if f == "-isystem":
                skip = True
                continue
            if f.startswith(("-D", "-I")) or f in ARCH_FLAGS or re.fullmatch(r"-O[0-3sgz]|-Ofast|-g", f):
                continue
            out.append(f)
        return out


ARCH_FLAGS = {"-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"}


@dataclass
class Build:
    groups: list[Group]
    link: list[str]
    linker_script: Path


def make_commands(config: Config, tflm_root: Path) -> list[str]:
    """``make -Bn`` of the H743 firmware: every command the build would run."""
    image = os.devnull  # MODE=flash needs an existing IMAGE; its path is replaced by the project's
    cmd = ["make", "-s", "--no-print-directory", "-C", str(TFLM_APP / "app"), "-Bn", "BOARD=stm32h743",
           f"MODE={config.mode}", f"TFLM_M7_ROOT={tflm_root}", "BUILD=/nonexistent/build", f"IMAGE={image}",
           "DEFINES=" + " ".join("-D" + d for d in config.defines), "elf-tflm"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise GenerateError(f"{shlex.join(cmd)} failed:\n{p.stderr[-3000:]}")
    return p.stdout.replace("\\\n", " ").splitlines()  # recipe lines continued with a backslash


def parse_build(lines: list[str]) -> Build:
    groups: dict[tuple[str, tuple[str, ...]], Group] = {}
    link, script = None, None
    for line in lines:
        if not line.startswith(("arm-none-eabi-gcc ", "arm-none-eabi-g++ ")):
            continue
        argv = shlex.split(line)
        if "-c" in argv:
            src = Path(argv[argv.index("-c") + 1])
            flags, skip = [], False
            for i, a in enumerate(argv[1:], 1):
                if skip:
                    skip = False
                    continue
                if a in ("-c", "-o"):
                    skip = True
                    continue
                if a in ("-MMD", "-MP"):
                    continue
                flags.append(a)
            tool = "asm" if src.suffix in (".S", ".s") else "c" if src.suffix == ".c" else "cpp"
            key = (tool, tuple(flags))
            groups.setdefault(key, Group(tool, tuple(flags))).sources.append(src)
        elif "-T" in argv:
            link = argv
            script = Path(argv[argv.index("-T") + 1])
    if link is None or not groups:
        raise GenerateError("make printed no compile or no link command for BOARD=stm32h743")
    return Build(sorted(groups.values(), key=lambda g: (g.tool, str(g.sources[0]))), link, script)


# ---- paths inside the project ----

def project_path(src: Path, tflm_root: Path) -> str:
    """Where a source appears in the project: tflm_app/... (ours) or tflm/... (TFLM's tree)."""
    src = src.resolve()
    for base, name in ((TFLM_APP, "tflm_app"), (tflm_root.resolve(), "tflm")):
        try:
            return f"{name}/{src.relative_to(base).as_posix()}"
        except ValueError:
            pass
    raise GenerateError(f"{src} is neither under {TFLM_APP} nor under the TFLM tree {tflm_root}")


def location_uri(src: Path, tflm_root: Path) -> str:
    p = project_path(src, tflm_root)
    top, rest = p.split("/", 1)
    return f"PARENT-1-PROJECT_LOC/tflm_app/{rest}" if top == "tflm_app" else f"TFLM_ROOT/{rest}"


def include_value(d: Path, tflm_root: Path) -> str:
    """An include folder as CubeIDE sees it: through the linked folders inc/tflm_app and inc/tflm."""
    return "${workspace_loc:/${ProjName}/inc/" + project_path(d, tflm_root) + "}"


def resolve_include(value: str, tflm_root: Path) -> Path:
    """Inverse of include_value (used by the tests)."""
    m = re.fullmatch(r"\$\{workspace_loc:/\$\{ProjName\}/inc/(tflm_app|tflm)(/.*)?\}", value)
    if m is None:
        raise GenerateError(f"include path {value!r} is not inside the project's inc/ links")
    base = TFLM_APP if m.group(1) == "tflm_app" else tflm_root
    return (base / (m.group(2) or "/").lstrip("/")).resolve()


# ---- .project ----

def dot_project(builds: dict[str, Build], tflm_root: Path) -> ET.Element:
    root = ET.Element("projectDescription")
    ET.SubElement(root, "name").text = PROJECT
    ET.SubElement(root, "comment").text = ("microalign forced aligner on the STM32H743; generated by "
                                           "cube_project/generate.py from tflm_app/app/Makefile - do not edit")
    ET.SubElement(root, "projects")
    bs = ET.SubElement(root, "buildSpec")
    for name, triggers in (("org.eclipse.cdt.managedbuilder.core.genmakebuilder", "clean,full,incremental,"),
                           ("org.eclipse.cdt.managedbuilder.core.ScannerConfigBuilder", "full,incremental,")):
        cmd = ET.SubElement(bs, "buildCommand")
        ET.SubElement(cmd, "name").text = name
        ET.SubElement(cmd, "triggers").text = triggers
        ET.SubElement(cmd, "arguments")
    natures = ET.SubElement(root, "natures")
    for n in ("com.st.stm32cube.ide.mcu.MCUProjectNature", "org.eclipse.cdt.core.cnature",
              "org.eclipse.cdt.core.ccnature", "com.st.stm32cube.ide.mcu.MCUCubeIdeServicesRevAev2ProjectNature",
              "com.st.stm32cube.ide.mcu.MCUAdvancedStructureProjectNature",
              "com.st.stm32cube.ide.mcu.MCUSingleCpuProjectNature", "com.st.stm32cube.ide.mcu.MCURootProjectNature",
              "org.eclipse.cdt.managedbuilder.core.managedBuildNature",
              "org.eclipse.cdt.managedbuilder.core.ScannerConfigNature"):
        ET.SubElement(natures, "nature").text = n
    links = ET.SubElement(root, "linkedResources")

    def link(name: str, kind: int, uri: str) -> None:
        el = ET.SubElement(links, "link")
        ET.SubElement(el, "name").text = name
        ET.SubElement(el, "type").text = str(kind)
        ET.SubElement(el, "locationURI").text = uri

    files = sorted({project_path(s, tflm_root): s for b in builds.values() for g in b.groups for s in g.sources}.items())
    folders = sorted({"/".join(p.split("/")[:i]) for p, _ in files for i in range(1, p.count("/") + 1)})
    entries = [("inc", 2, "virtual:/virtual"), ("inc/tflm", 2, "TFLM_ROOT"),
               ("inc/tflm_app", 2, "PARENT-1-PROJECT_LOC/tflm_app")]
    entries += [(f, 2, "virtual:/virtual") for f in folders]
    entries += [(p, 1, location_uri(s, tflm_root)) for p, s in files]
    for name, kind, uri in sorted(entries):
        link(name, kind, uri)
    var = ET.SubElement(ET.SubElement(root, "variableList"), "variable")
    ET.SubElement(var, "name").text = "TFLM_ROOT"
    ET.SubElement(var, "value").text = TFLM_ROOT_VALUE
    return root


# ---- .cproject ----

def uid(*parts: str) -> str:
    """A stable numeric id (CDT wants unique ids; the same input gives the same file)."""
    return str(int(hashlib.sha1("/".join(parts).encode()).hexdigest()[:9], 16))


def _opt(parent: ET.Element, cfg: str, super_class: str, value: str | None = None, value_type: str | None = None,
         items: list[str] | None = None) -> ET.Element:
    el = ET.SubElement(parent, "option", id=f"{super_class}.{uid(cfg, parent.get('id', ''), super_class)}",
                       superClass=super_class)
    if value is not None:
        el.set("value", value)
    if value_type:
        el.set("valueType", value_type)
    for v in items or []:
        ET.SubElement(el, "listOptionValue", builtIn="false", value=v)
    return el


OPT_LEVEL = {"-O0": "o0", "-O1": "o1", "-O2": "o2", "-O3": "o3", "-Os": "os", "-Og": "og", "-Ofast": "ofast"}


def _compiler_options(tool: ET.Element, cfg: str, kind: str, g: Group, tflm_root: Path) -> None:
    lang = {"c": "c.compiler", "cpp": "cpp.compiler", "asm": "assembler"}[kind]
    base = f"{ST}.tool.{lang}.option"
    if kind != "asm":
        _opt(tool, cfg, f"{base}.optimization.level", f"{base}.optimization.level.value.{OPT_LEVEL[g.optimization]}",
             "enumerated")
    _opt(tool, cfg, f"{base}.debuglevel", f"{base}.debuglevel.value.{'g2' if '-g' in g.flags else 'g0'}", "enumerated")
    defines = [re.sub(r'^MA_FLASH_IMAGE_FILE=".*"$', f'MA_FLASH_IMAGE_FILE="{IMAGE_IN_PROJECT}"', d) for d in g.defines]
    _opt(tool, cfg, f"{base}.definedsymbols", value_type="definedSymbols", items=[d.replace('"', '\\"') for d in defines])
    _opt(tool, cfg, f"{base}.includepaths", value_type="includePath",
         items=[include_value(d, tflm_root) for d in g.includes])
    other = g.other + [x for d in g.system_includes for x in ("-isystem", include_value(d, tflm_root))]
    _opt(tool, cfg, f"{base}.otherflags", value_type="stringList", items=other)


def _toolchain(parent: ET.Element, cfg: Config, build: Build, tflm_root: Path, scope: str, groups: dict[str, Group],
               root_ids: dict[str, str] | None) -> dict[str, str]:
    """The toolChain element of a folderInfo: the root one (scope '/') or a folder's override."""
    tc_super = f"{ST}.toolchain.exe.release"
    tc = ET.SubElement(parent, "toolChain", id=f"{tc_super}.{uid(cfg.name, scope, 'tc')}", name="MCU ARM GCC",
                       superClass=tc_super if root_ids is None else root_ids["tc"])
    ids = {"tc": tc.get("id")}
    if root_ids is None:
        _opt(tc, cfg.name, f"{ST}.option.internal.toolchain.type",
             f"{ST}.option.internal.toolchain.value.gnu-tools-for-stm32", "string")
        _opt(tc, cfg.name, f"{ST}.option.target_mcu", cfg.mcu, "string")
        _opt(tc, cfg.name, f"{ST}.option.target_cpuid", "0", "string")
        _opt(tc, cfg.name, f"{ST}.option.target_coreid", "0", "string")
        _opt(tc, cfg.name, f"{ST}.option.fpu", f"{ST}.option.fpu.value.fpv5-d16", "enumerated")
        _opt(tc, cfg.name, f"{ST}.option.floatabi", f"{ST}.option.floatabi.value.hard", "enumerated")
        _opt(tc, cfg.name, f"{ST}.option.target_board", cfg.board, "string")
        ET.SubElement(tc, "targetPlatform", archList="all", binaryParser="org.eclipse.cdt.core.ELF",
                      id=f"{ST}.targetplatform.{uid(cfg.name, 'tp')}", isAbstract="false", osList="all",
                      superClass=f"{ST}.targetplatform")
        ET.SubElement(tc, "builder", buildPath="${workspace_loc:/" + PROJECT + "}/" + cfg.name,
                      id=f"{ST}.builder.{uid(cfg.name, 'builder')}", keepEnvironmentInBuildfile="false",
                      managedBuildOn="true", name="Gnu Make Builder", parallelBuildOn="true",
                      parallelizationNumber="optimal", superClass=f"{ST}.builder")
    for kind, lang, name in (("asm", "assembler", "MCU GCC Assembler"), ("c", "c.compiler", "MCU GCC Compiler"),
                             ("cpp", "cpp.compiler", "MCU G++ Compiler")):
        sup = f"{ST}.tool.{lang}"
        if kind not in groups and root_ids is not None:
            continue
        tool = ET.SubElement(tc, "tool", id=f"{sup}.{uid(cfg.name, scope, kind)}", name=name,
                             superClass=sup if root_ids is None else root_ids[kind])
        ids[kind] = tool.get("id")
        if kind in groups:
            _compiler_options(tool, cfg.name, kind, groups[kind], tflm_root)
        if root_ids is None:
            inp = {"asm": f"{sup}.input", "c": f"{sup}.input.c", "cpp": f"{sup}.input.cpp"}[kind]
            ET.SubElement(tool, "inputType", id=f"{inp}.{uid(cfg.name, kind, 'in')}", superClass=inp)
    if root_ids is None:
        lk = f"{ST}.tool.cpp.linker"
        tool = ET.SubElement(tc, "tool", id=f"{lk}.{uid(cfg.name, 'ld')}", name="MCU G++ Linker", superClass=lk)
        _opt(tool, cfg.name, f"{lk}.option.script", include_value(build.linker_script.parent, tflm_root)[:-1] + "/"
             + build.linker_script.name + "}", "string")
        libs = [a[2:] for a in build.link if a.startswith("-l")]
        other = [a for a in build.link[1:] if a.startswith(("-nostartfiles", "--specs", "-Wl,--gc-sections"))]
        _opt(tool, cfg.name, f"{lk}.option.libraries", value_type="libs", items=libs)
        _opt(tool, cfg.name, f"{lk}.option.otherflags", value_type="stringList", items=other)
        inp = f"{lk}.input"
        ET.SubElement(ET.SubElement(tool, "inputType", id=f"{inp}.{uid(cfg.name, 'ldin')}", superClass=inp),
                      "additionalInput", kind="additionalinputdependency", paths="$(USER_OBJS)")
        for sub, name in (("c.linker", "MCU GCC Linker"), ("archiver", "MCU GCC Archiver"), ("size", "MCU Size"),
                          ("objdump.listfile", "MCU Output Converter list file"),
                          ("objcopy.hex", "MCU Output Converter Hex"), ("objcopy.binary", "MCU Output Converter Binary")):
            sup = f"{ST}.tool.{sub}"
            ET.SubElement(tc, "tool", id=f"{sup}.{uid(cfg.name, sub)}", name=name, superClass=sup)
    return ids


def _split_groups(build: Build, tflm_root: Path) -> tuple[dict[str, Group], dict[str, Group]]:
    """Ours (project-wide settings) and TFLM's (the tflm/ folder's settings), one group per tool each."""
    ours, theirs = {}, {}
    for g in build.groups:
        where = {project_path(s, tflm_root).split("/")[0] for s in g.sources}
        if len(where) != 1:
            raise GenerateError(f"one command line for sources of both trees: {g.sources}")
        target = ours if where == {"tflm_app"} else theirs
        if g.tool in target:
            raise GenerateError(f"two different {g.tool} command lines in {where.pop()}/: the project has one per folder")
        target[g.tool] = g
    return ours, theirs


def dot_cproject(builds: dict[str, Build], tflm_root: Path) -> ET.Element:
    root = ET.Element("cproject", storage_type_id="org.eclipse.cdt.core.XmlProjectDescriptionStorage")
    settings = ET.SubElement(root, "storageModule", moduleId="org.eclipse.cdt.core.settings")
    all_files = {project_path(s, tflm_root) for b in builds.values() for g in b.groups for s in g.sources}
    for cfg in CONFIGS:
        build = builds[cfg.name]
        ours, theirs = _split_groups(build, tflm_root)
        cid = f"{ST}.config.exe.release.{uid(cfg.name, 'config')}"
        cc = ET.SubElement(settings, "cconfiguration", id=cid)
        sm = ET.SubElement(cc, "storageModule", buildSystemId="org.eclipse.cdt.managedbuilder.core.configurationDataProvider",
                           id=cid, moduleId="org.eclipse.cdt.core.settings", name=cfg.name)
        ET.SubElement(sm, "externalSettings")
        ext = ET.SubElement(sm, "extensions")
        ET.SubElement(ext, "extension", id="org.eclipse.cdt.core.ELF", point="org.eclipse.cdt.core.BinaryParser")
        for e in ("GASErrorParser", "GmakeErrorParser", "GLDErrorParser", "CWDLocator", "GCCErrorParser"):
            ET.SubElement(ext, "extension", id=f"org.eclipse.cdt.core.{e}", point="org.eclipse.cdt.core.ErrorParser")
        bsm = ET.SubElement(cc, "storageModule", moduleId="cdtBuildSystem", version="4.0.0")
        conf = ET.SubElement(bsm, "configuration", artifactExtension="elf", artifactName="${ProjName}",
                             buildArtefactType="org.eclipse.cdt.build.core.buildArtefactType.exe",
                             buildProperties="org.eclipse.cdt.build.core.buildArtefactType=org.eclipse.cdt.build.core."
                                             "buildArtefactType.exe,org.eclipse.cdt.build.core.buildType=org.eclipse."
                                             "cdt.build.core.buildType.release",
                             cleanCommand="rm -rf", description=f"weights: MODE={cfg.mode}", id=cid, name=cfg.name,
                             parent=f"{ST}.config.exe.release")
        fi = ET.SubElement(conf, "folderInfo", id=f"{cid}.", name="/", resourcePath="")
        root_ids = _toolchain(fi, cfg, build, tflm_root, "/", ours, None)
        if theirs:
            fi2 = ET.SubElement(conf, "folderInfo", id=f"{cid}.{uid(cfg.name, 'tflm')}", name="/tflm",
                                resourcePath="tflm")
            _toolchain(fi2, cfg, build, tflm_root, "tflm", theirs, root_ids)
        se = ET.SubElement(conf, "sourceEntries")
        mine = {project_path(s, tflm_root) for g in build.groups for s in g.sources}
        for name in ("tflm", "tflm_app"):
            # the files of the other configuration (e.g. ma_flash_image.S) are not built in this one
            skip = sorted(p[len(name) + 1:] for p in all_files - mine if p.split("/")[0] == name)
            entry = ET.SubElement(se, "entry", flags="VALUE_WORKSPACE_PATH|RESOLVED", kind="sourcePath", name=name)
            if skip:
                entry.set("excluding", "|".join(skip))
        ET.SubElement(cc, "storageModule", moduleId="org.eclipse.cdt.core.externalSettings")
    bsm = ET.SubElement(root, "storageModule", moduleId="cdtBuildSystem", version="4.0.0")
    ET.SubElement(bsm, "project", id=f"{PROJECT}.null.{uid('project')}", name=PROJECT)
    ET.SubElement(root, "storageModule", moduleId="scannerConfiguration")
    ET.SubElement(root, "storageModule", moduleId="org.eclipse.cdt.core.LanguageSettingsProviders")
    return root


# ---- .ioc (STM32CubeMX): the peripherals and clocks the board layer programs, for reference ----

BOARD_HEADER = TFLM_APP / "board" / "stm32h743" / "board_stm32h743.h"


def board_settings(defines: tuple[str, ...] = (), header: Path = BOARD_HEADER) -> dict[str, int]:
    """The board header's numeric MA_H743_* settings as the compiler sees them with a configuration's defines
    (``cc -E -dM``), so the board variant (MA_BOARD_NUCLEO_H743ZI) selects the same values as in the firmware."""
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-E", "-dM", *("-D" + d for d in defines), f"-I{TFLM_APP / 'kernels'}", "-x", "c", str(header)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise GenerateError(f"cannot preprocess {header} with {cc}: {e}") from e
    vals: dict[str, int] = {}
    for name, expr in re.findall(r"^#define (MA_H743_\w+) (.+)$", out, re.M):
        m = re.fullmatch(r"\(?\s*(0x[0-9A-Fa-f]+|[0-9]+)u?\s*\)?(?:\s*/\*.*)?", expr.strip())
        if m:
            vals[name] = int(m.group(1), 0)
    return vals


def board_setting(name: str, defines: tuple[str, ...] = ()) -> int:
    vals = board_settings(defines)
    if name not in vals:
        raise GenerateError(f"{BOARD_HEADER}: no numeric #define {name} (defines {defines})")
    return vals[name]


def pll_plan(hse_hz: int, sys_hz: int = 480_000_000) -> dict[str, int]:
    """PLL1 as h743_clock.c's ma_h743_clock_plan_for chooses it (rev V, VOS0): DIVP 2, the smallest DIVM giving
    an integer 2-16 MHz reference with an integer DIVN, DIVQ 4, DIVR 2."""
    vco = sys_hz * 2
    for m in range(1, 64):
        if hse_hz % m:
            continue
        ref = hse_hz // m
        if 2_000_000 <= ref <= 16_000_000 and vco % ref == 0:
            return {"M": m, "N": vco // ref, "P": 2, "Q": 4, "R": 2, "ref": ref}
    raise GenerateError(f"no PLL1 plan for HSE {hse_hz} Hz")


def ioc_text(cfg: Config) -> str:
    b = board_settings(cfg.defines)
    hse, baud, qspi_presc = b["MA_H743_HSE_HZ"], b["MA_H743_BAUD"], b["MA_H743_QSPI_PRESCALER"]
    usart = b["MA_H743_CONSOLE_USART"]
    ext_memories = bool(b["MA_H743_HAS_QSPI"] and b["MA_H743_HAS_SDRAM"])
    if ext_memories != (cfg.mode != "flash"):
        raise GenerateError(f"{cfg.name}: MODE={cfg.mode} but the board header says QSPI {b['MA_H743_HAS_QSPI']}, "
                            f"SDRAM {b['MA_H743_HAS_SDRAM']}")
    pll = pll_plan(hse)
    lines = [
        "#MicroXplorer Configuration settings - do not modify",
        f"# generated by cube_project/generate.py ({cfg.name}); for reference: the firmware programs these itself",
        "# (tflm_app/board/stm32h743, register level) - do not let CubeMX generate code into this project",
        "File.Version=6",
        "KeepUserPlacement=false",
        f"Mcu.CPN={cfg.mcu.replace('x', '6').upper()}",
        "Mcu.Family=STM32H7",
        f"Mcu.Name={cfg.mcu}",
        f"Mcu.Package={'TFBGA240' if cfg.mcu.endswith('HIHx') or 'XIH' in cfg.mcu else 'LQFP144'}",
        f"Mcu.UserName={cfg.mcu}",
        "Mcu.IP0=CORTEX_M7", "Mcu.IP1=NVIC", "Mcu.IP2=RCC", "Mcu.IP3=SYS", f"Mcu.IP4=USART{usart}",
    ]
    if ext_memories:
        lines += ["Mcu.IP5=QUADSPI", "Mcu.IP6=FMC", "Mcu.IPNb=7"]
    else:
        lines += ["Mcu.IPNb=5"]
    lines += [
        f"PCC.PartNumber={cfg.mcu}",
        "PWR.SupplySource=PWR_LDO_SUPPLY",
        "PWR.VoltageScaling=PWR_REGULATOR_VOLTAGE_SCALE0",
        f"RCC.HSE_VALUE={hse}",
        f"RCC.HSEState={'RCC_HSE_BYPASS' if b['MA_H743_HSE_BYPASS'] else 'RCC_HSE_ON'}",
        "RCC.PLLSourceVirtual=RCC_PLLSOURCE_HSE",
        f"RCC.DIVM1={pll['M']}", f"RCC.DIVN1={pll['N']}", f"RCC.DIVP1={pll['P']}", f"RCC.DIVQ1={pll['Q']}",
        f"RCC.DIVR1={pll['R']}",
        "RCC.SYSCLKSource=RCC_SYSCLKSOURCE_PLLCLK",
        "RCC.SYSCLKFreq_VALUE=480000000", "RCC.CpuClockFreq_Value=480000000",
        "RCC.D1CPREFreq_Value=480000000", "RCC.HPRE=RCC_HCLK_DIV2", "RCC.HCLKFreq_Value=240000000",
        "RCC.D1PPRE=RCC_APB3_DIV2", "RCC.D2PPRE1=RCC_APB1_DIV2", "RCC.D2PPRE2=RCC_APB2_DIV2", "RCC.D3PPRE=RCC_APB4_DIV2",
        "RCC.APB1Freq_Value=120000000", "RCC.APB2Freq_Value=120000000",
        "RCC.USART16CLockSelection=RCC_USART16CLKSOURCE_D2PCLK2",
        "RCC.USART234578CLockSelection=RCC_USART234578CLKSOURCE_D2PCLK1",
        "FLASH.Latency=FLASH_LATENCY_4",
        f"USART{usart}.IPParameters=BaudRate", f"USART{usart}.BaudRate={baud}",
    ]
    if usart == 3:  # NUCLEO-H743ZI: the ST-LINK virtual COM port
        lines += ["PD8.Signal=USART3_TX", "PD9.Signal=USART3_RX",
                  "PD8.GPIO_AF=GPIO_AF7_USART3", "PD9.GPIO_AF=GPIO_AF7_USART3"]
    elif usart == 1:
        lines += ["PB14.Signal=USART1_TX", "PB15.Signal=USART1_RX",
                  "PB14.GPIO_AF=GPIO_AF4_USART1", "PB15.GPIO_AF=GPIO_AF4_USART1"]
    else:
        raise GenerateError(f"console USART{usart}: no pin table")
    if ext_memories:
        lines += [
            "RCC.QSPICLockSelection=RCC_QSPICLKSOURCE_D1HCLK", "RCC.FMCCLockSelection=RCC_FMCCLKSOURCE_D1HCLK",
            "QUADSPI.IPParameters=ClockPrescaler,DualFlash,FlashSize,ChipSelectHighTime",
            f"QUADSPI.ClockPrescaler={qspi_presc}", "QUADSPI.DualFlash=QSPI_DUALFLASH_ENABLE",
            "QUADSPI.FlashSize=26", "QUADSPI.ChipSelectHighTime=QSPI_CS_HIGH_TIME_4_CYCLE",
            "PF10.Signal=QUADSPI_CLK", "PG6.Signal=QUADSPI_BK1_NCS", "PF8.Signal=QUADSPI_BK1_IO0",
            "PF9.Signal=QUADSPI_BK1_IO1", "PF7.Signal=QUADSPI_BK1_IO2", "PF6.Signal=QUADSPI_BK1_IO3",
            "PH2.Signal=QUADSPI_BK2_IO0", "PH3.Signal=QUADSPI_BK2_IO1", "PG9.Signal=QUADSPI_BK2_IO2",
            "PG14.Signal=QUADSPI_BK2_IO3",
            "FMC.IPParameters=SDBank,ColumnBitsNumber,RowBitsNumber,MemoryDataWidth,InternalBankNumber,CASLatency,"
            "SDClockPeriod,ReadBurst",
            "FMC.SDBank=FMC_SDRAM_BANK2", "FMC.ColumnBitsNumber=FMC_SDRAM_COLUMN_BITS_NUM_9",
            "FMC.RowBitsNumber=FMC_SDRAM_ROW_BITS_NUM_12", "FMC.MemoryDataWidth=FMC_SDRAM_MEM_BUS_WIDTH_32",
            "FMC.InternalBankNumber=FMC_SDRAM_INTERN_BANKS_NUM_4", "FMC.CASLatency=FMC_SDRAM_CAS_LATENCY_3",
            "FMC.SDClockPeriod=FMC_SDRAM_CLOCK_PERIOD_2", "FMC.ReadBurst=FMC_SDRAM_RBURST_ENABLE",
        ]
    lines += ["ProjectManager.ProjectName=microalign", "ProjectManager.TargetToolchain=STM32CubeIDE",
              "ProjectManager.NoMain=true", "board=" + cfg.board]
    return "\n".join(lines) + "\n"


# ---- writing ----

def _xml(root: ET.Element, pi: str | None = None) -> str:
    ET.indent(root, space="\t")
    body = ET.tostring(root, encoding="unicode")
    head = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + (pi + "\n" if pi else "")
    return head + body + "\n"


def generate(tflm_root: Path) -> dict[str, str]:
    """File name -> text of everything this script writes."""
    builds = {c.name: parse_build(make_commands(c, tflm_root)) for c in CONFIGS}
    out = {".project": _xml(dot_project(builds, tflm_root)),
           ".cproject": _xml(dot_cproject(builds, tflm_root), "<?fileVersion 4.0.0?>")}
    for c in CONFIGS:
        out[f"microalign_{c.name}.ioc"] = ioc_text(c)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tflm-root", type=Path, default=Path(os.environ.get("TFLM_M7_ROOT", DEFAULT_TFLM_ROOT)),
                    help="the create_tflm_tree.py tree whose file list the project links (default %(default)s)")
    ap.add_argument("--check", action="store_true", help="compare with the files in cube_project/ instead of writing")
    a = ap.parse_args(argv)
    if not (a.tflm_root / "tensorflow" / "lite" / "micro" / "micro_interpreter.h").exists():
        print(f"error: --tflm-root {a.tflm_root} is not a TFLite Micro tree (create_tflm_tree.py output)", file=sys.stderr)
        return 2
    try:
        files = generate(a.tflm_root)
    except GenerateError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    stale = []
    for name, text in files.items():
        path = HERE / name
        if a.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
    if stale:
        print("out of date (run cube_project/generate.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The files of a MODFLOW 6 simulation folder, as its name files and OC name them.

MF6 opens every file relative to the folder it runs in (the simulation folder): the
simulation name file ``mfsim.nam`` names the TDIS file, the models and the solution (IMS)
files; the GWF name file names its packages and, with ``LIST``, its listing file; the OC
package names the head and budget files (``HEAD FILEOUT``, ``BUDGET FILEOUT``). Nothing
here guesses from file suffixes (Langevin et al. 2017, MF6 input/output guide, "Simulation
Name File", "GWF Name File", "Output Control").
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

_BLOCK = re.compile(r"^[ \t]*BEGIN[ \t]+(\w+)[ \t]*(\d*)(.*?)^[ \t]*END[ \t]+\1\b",
                    re.I | re.M | re.S)

Blocks = list[tuple[str, int | None, list[list[str]]]]
"""Blocks of an MF6 input file: (NAME upper case, number or None, lines split in words)."""


def strip_comments(text: str) -> str:
    """Text without comments (``#``, ``!`` and ``//`` to the end of the line)."""
    return "\n".join(re.split(r"#|!|//", line)[0] for line in text.splitlines())


def read_blocks(path: Path) -> Blocks:
    """The blocks of an MF6 input file.

    Raises
    ------
    InputError
        The file does not exist.
    """
    if not path.is_file():
        raise InputError("file listed in the name file does not exist", file=path)
    text = strip_comments(path.read_text(errors="replace"))
    blocks = []
    for m in _BLOCK.finditer(text):
        lines = [ln.split() for ln in m.group(3).splitlines() if ln.strip()]
        blocks.append((m.group(1).upper(), int(m.group(2)) if m.group(2) else None, lines))
    return blocks


def block_lines(blocks: Blocks, name: str) -> list[list[str]]:
    """All lines of the blocks called ``name`` (upper case), in file order."""
    return [words for n, _, lines in blocks if n == name for words in lines]


@dataclass(frozen=True)
class PackageEntry:
    """One line of a GWF name file's PACKAGES block."""

    ftype: str
    path: Path
    pname: str


OcRule = tuple
"""An OC setting: ``("ALL",)``, ``("FIRST",)``, ``("LAST",)``, ``("FREQUENCY", n)`` or
``("STEPS", n1, n2, ...)`` (1-based steps)."""


@dataclass(frozen=True)
class OutputControl:
    """What OC saves: per 0-based stress period with a PERIOD block, the SAVE HEAD and SAVE
    BUDGET rule (``None``: nothing that period).

    Notes
    -----
    MF6 OC (mf6io, "Output Control"): a PERIOD block replaces all settings of the previous
    one; periods without a block keep the settings in force; an empty block saves nothing.
    FIRST and LAST are the first and last step of a period, FREQUENCY n every step whose
    number is a multiple of n, STEPS the listed step numbers.
    """

    head: dict[int, OcRule | None] = field(default_factory=dict)
    budget: dict[int, OcRule | None] = field(default_factory=dict)

    @classmethod
    def every_step(cls, budget: bool = True) -> OutputControl:
        """Heads (and budgets) saved at every time step."""
        return cls({0: ("ALL",)}, {0: ("ALL",)} if budget else {0: None})

    def first_periods(self, nper: int) -> OutputControl:
        """The settings of the first ``nper`` periods only."""
        return OutputControl({k: v for k, v in self.head.items() if k < nper},
                             {k: v for k, v in self.budget.items() if k < nper})

    def saved(self, what: str, nstp: np.ndarray) -> np.ndarray:
        """Per time step of all periods (periods with ``nstp`` steps), True when saved."""
        rules = self.head if what == "head" else self.budget
        out, rule = [], None
        for kper, n in enumerate(np.asarray(nstp, int)):
            if kper in rules:
                rule = rules[kper]
            step = np.arange(1, n + 1)
            if rule is None:
                keep = np.zeros(n, bool)
            elif rule[0] == "ALL":
                keep = np.ones(n, bool)
            elif rule[0] == "FIRST":
                keep = step == 1
            elif rule[0] == "LAST":
                keep = step == n
            elif rule[0] == "FREQUENCY":
                keep = step % int(rule[1]) == 0
            else:  # STEPS
                keep = np.isin(step, [int(s) for s in rule[1:]])
            out.append(keep)
        return np.concatenate(out) if out else np.zeros(0, bool)


def read_output_control(path: Path) -> tuple[OutputControl, dict[str, str]]:
    """OC save rules and the file names of its OPTIONS block (``HEAD``, ``BUDGET``, ...).

    Raises
    ------
    InputError
        A SAVE line that is not ``SAVE HEAD|BUDGET ALL|FIRST|LAST|FREQUENCY n|STEPS n...``.
    """
    blocks = read_blocks(path)
    files = {}
    for words in block_lines(blocks, "OPTIONS"):
        if len(words) >= 3 and words[1].upper() == "FILEOUT":
            files[words[0].upper()] = words[2]
    head: dict[int, OcRule | None] = {}
    budget: dict[int, OcRule | None] = {}
    for name, num, lines in blocks:
        if name != "PERIOD" or num is None:
            continue
        head[num - 1], budget[num - 1] = None, None
        for words in lines:
            if words[0].upper() != "SAVE":
                continue
            what = words[1].upper() if len(words) > 1 else ""
            rule = tuple(w.upper() for w in words[2:3]) + tuple(words[3:])
            if what not in ("HEAD", "BUDGET") or not rule or rule[0] not in (
                    "ALL", "FIRST", "LAST", "FREQUENCY", "STEPS"):
                raise InputError(f"cannot read OC line {' '.join(words)!r} in period {num}",
                                 file=path, field="SAVE")
            (head if what == "HEAD" else budget)[num - 1] = rule
    return OutputControl(head, budget), files


@dataclass(frozen=True)
class SimulationFiles:
    """The files of a simulation folder with one GWF model, as its name files name them.

    Attributes
    ----------
    sim_dir
        The simulation folder (MF6's working directory).
    tdis, ims
        The TDIS file and the solution file(s) of ``mfsim.nam``.
    model_name, gwf_nam
        Name and name file of the GWF model.
    nam_options
        OPTIONS of the GWF name file, keyword -> following words (upper case).
    packages
        The PACKAGES block of the GWF name file.
    listing
        GWF listing file: ``LIST`` of the name file, else the name file with ``.lst``.
    head, budget
        Head and budget files of OC (``None`` when OC names none or there is no OC).
    oc
        OC's save rules.
    extra_outputs
        Further files MF6 writes here (``mfsim.lst``, the DIS binary grid file, BUDGETCSV).
    """

    sim_dir: Path
    tdis: Path
    ims: tuple[Path, ...]
    model_name: str
    gwf_nam: Path
    nam_options: dict[str, list[str]]
    packages: tuple[PackageEntry, ...]
    listing: Path
    head: Path | None
    budget: Path | None
    oc: OutputControl
    extra_outputs: tuple[Path, ...]

    @property
    def outputs(self) -> tuple[Path, ...]:
        """Every file this simulation writes (heads, budget, listings, grid file, ...)."""
        files = [self.listing, self.head, self.budget, *self.extra_outputs]
        return tuple(f for f in files if f is not None)

    def package(self, ftype: str) -> PackageEntry | None:
        """The first package of type ``ftype`` (e.g. ``"OC6"``), or None."""
        return next((p for p in self.packages if p.ftype == ftype), None)


def _gwf_model(sim_dir: Path) -> tuple[Path, str, Path, tuple[Path, ...]]:
    """(GWF name file, model name, TDIS file, IMS files) of ``mfsim.nam``."""
    mfsim = sim_dir / "mfsim.nam"
    if not mfsim.is_file():
        raise InputError("not a MODFLOW 6 simulation folder (no mfsim.nam)", file=mfsim)
    blocks = read_blocks(mfsim)
    models = block_lines(blocks, "MODELS")
    if block_lines(blocks, "EXCHANGES"):
        raise InputError("exchanges between models are not supported", file=mfsim,
                         field="EXCHANGES")
    gwf = [m for m in models if m[0].upper() == "GWF6"]
    if len(models) != 1 or len(gwf) != 1:
        raise InputError(f"expected exactly one GWF6 model, found {[m[0] for m in models]}",
                         file=mfsim, field="MODELS")
    tdis = [w[1] for w in block_lines(blocks, "TIMING") if w[0].upper() == "TDIS6"]
    if not tdis:
        raise InputError("mfsim.nam names no TDIS6 file", file=mfsim, field="TDIS6")
    ims = tuple(sim_dir / w[1] for w in block_lines(blocks, "SOLUTIONGROUP")
                if w[0].upper() == "IMS6")
    return sim_dir / gwf[0][1], gwf[0][2], sim_dir / tdis[0], ims


def read_simulation_files(sim_dir: str | Path) -> SimulationFiles:
    """The files of the simulation in ``sim_dir`` (name files and OC are read).

    Raises
    ------
    InputError
        No ``mfsim.nam``, not exactly one GWF model, exchanges, a missing name file.
    """
    sim_dir = Path(sim_dir)
    nam, model_name, tdis, ims = _gwf_model(sim_dir)
    blocks = read_blocks(nam)
    options = {w[0].upper(): [x.upper() for x in w[1:]] for w in block_lines(blocks, "OPTIONS")}
    packages = []
    for i, words in enumerate(block_lines(blocks, "PACKAGES")):
        ftype = words[0].upper()
        pname = words[2] if len(words) > 2 else f"{ftype.rstrip('6').lower()}_{i}"
        packages.append(PackageEntry(ftype, sim_dir / words[1], pname.lower()))
    raw_list = next((w[1:] for w in block_lines(blocks, "OPTIONS") if w[0].upper() == "LIST"),
                    None)
    # MF6 gwf_cr: without LIST the listing is the name file with its extension replaced
    listing = sim_dir / raw_list[0] if raw_list else nam.with_suffix(".lst")
    oc, oc_files, head, budget = OutputControl(), {}, None, None
    oc_entry = next((p for p in packages if p.ftype == "OC6"), None)
    if oc_entry is not None:
        oc, oc_files = read_output_control(oc_entry.path)
        head = sim_dir / oc_files["HEAD"] if "HEAD" in oc_files else None
        budget = sim_dir / oc_files["BUDGET"] if "BUDGET" in oc_files else None
    extra = [sim_dir / "mfsim.lst"]
    if "BUDGETCSV" in oc_files:
        extra.append(sim_dir / oc_files["BUDGETCSV"])
    dis = next((p for p in packages if p.ftype == "DIS6"), None)
    if dis is not None and dis.path.is_file():
        nogrb = any(w[0].upper() == "NOGRB" for w in block_lines(read_blocks(dis.path),
                                                                  "OPTIONS"))
        if not nogrb:
            extra.append(Path(str(dis.path) + ".grb"))
    return SimulationFiles(sim_dir, tdis, ims, model_name, nam, options, tuple(packages),
                           listing, head, budget, oc, tuple(extra))


def copy_inputs(sim_dir: Path, dest: Path, files: SimulationFiles) -> None:
    """Copy ``sim_dir`` to ``dest`` without the outputs its name files and OC name.

    Files are hard-linked where the file system allows (MF6 only reads them; every
    output is written to a new file), else copied.
    """
    skip = {p.resolve() for p in files.outputs}

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if (Path(folder) / n).resolve() in skip}

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(sim_dir, dest, ignore=ignore, copy_function=link_or_copy,
                    dirs_exist_ok=True)

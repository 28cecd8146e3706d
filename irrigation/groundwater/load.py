"""Read a MODFLOW 6 simulation folder into a :class:`~.model.GwfModel` (flopy stays here).

The name files and the OPTIONS/PERIOD block structure are scanned first so that every
package, option or missing file outside what the embedded solver supports raises an
:class:`~irrigation.errors.InputError` naming the file, package and option; flopy then reads
the arrays and lists.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .model import LIST_COLUMNS, GwfModel, Package

log = logging.getLogger(__name__)

_BND_COMMON = {"AUXILIARY", "BOUNDNAMES", "PRINT_INPUT", "PRINT_FLOWS", "SAVE_FLOWS", "OBS6"}
#: Options accepted per package type (first word of an OPTIONS line, upper case).
ALLOWED_OPTIONS: dict[str, set[str]] = {
    "NAM": {"SAVE_FLOWS", "PRINT_INPUT", "PRINT_FLOWS", "NEWTON", "LIST"},
    "DIS6": {"LENGTH_UNITS", "NOGRB", "XORIGIN", "YORIGIN", "ANGROT", "EXPORT_ARRAY_ASCII"},
    "IC6": {"EXPORT_ARRAY_ASCII"},
    "NPF6": {"SAVE_FLOWS", "PRINT_FLOWS", "SAVE_SPECIFIC_DISCHARGE", "SAVE_SATURATION",
             "K22OVERK", "K33OVERK", "EXPORT_ARRAY_ASCII"},
    "STO6": {"SAVE_FLOWS", "STORAGECOEFFICIENT", "EXPORT_ARRAY_ASCII"},
    "CHD6": _BND_COMMON,
    "WEL6": _BND_COMMON | {"AUTO_FLOW_REDUCE", "AUTO_FLOW_REDUCE_CSV"},
    "DRN6": _BND_COMMON,
    "GHB6": _BND_COMMON,
    "RIV6": _BND_COMMON,
    "RCH6": _BND_COMMON | {"READASARRAYS", "FIXED_CELL"},
    "EVT6": _BND_COMMON | {"READASARRAYS", "FIXED_CELL"},
    "OC6": {"BUDGET", "HEAD", "BUDGETCSV"},
    "OBS6": {"DIGITS", "PRINT_INPUT"},
}
#: Package types a GWF name file may list.
SUPPORTED_FTYPES = set(ALLOWED_OPTIONS) - {"NAM"}
_BLOCK = re.compile(r"^\s*BEGIN\s+(\w+)\s*(\d*)(.*?)^\s*END\s+\1", re.I | re.M | re.S)


def _strip(text: str) -> str:
    """Text without comments (``#``, ``!``, ``//``)."""
    return "\n".join(re.split(r"#|!|//", line)[0] for line in text.splitlines())


Blocks = list[tuple[str, int | None, list[list[str]]]]


class PackageFile(NamedTuple):
    """A package listed in the GWF name file, its options and its parsed blocks."""

    ftype: str
    path: Path
    pname: str
    options: dict[str, list[str]]
    blocks: Blocks


def read_blocks(path: Path) -> Blocks:
    """The blocks of an MF6 input file: (NAME, number or None, lines split into words)."""
    if not path.is_file():
        raise InputError("file listed in the name file does not exist", file=path)
    text = _strip(path.read_text(errors="replace"))
    blocks = []
    for m in _BLOCK.finditer(text):
        lines = [ln.split() for ln in m.group(3).splitlines() if ln.strip()]
        blocks.append((m.group(1).upper(), int(m.group(2)) if m.group(2) else None, lines))
    return blocks


def _options(blocks: Blocks, path: Path, ftype: str) -> dict[str, list[str]]:
    """OPTIONS of a file; unknown options raise :class:`InputError`."""
    opts: dict[str, list[str]] = {}
    for name, _, lines in blocks:
        if name != "OPTIONS":
            continue
        for words in lines:
            key = words[0].upper()
            if key not in ALLOWED_OPTIONS.get(ftype, set()):
                raise InputError(
                    f"option {key} of package {ftype.rstrip('6')} is not supported by the "
                    "embedded solver (use --backend mf6)", file=path, field=key)
            opts[key] = words[1:]
    return opts


def _name_file_packages(nam: Path) -> list[tuple[str, Path, str]]:
    """(ftype, file, pname) of the PACKAGES block of a GWF name file."""
    out = []
    for name, _, lines in read_blocks(nam):
        if name == "PACKAGES":
            for i, words in enumerate(lines):
                ftype = words[0].upper()
                pname = words[2] if len(words) > 2 else ftype.rstrip("6").lower() + f"_{i}"
                out.append((ftype, nam.parent / words[1], pname))
    return out


def _gwf_name_file(sim_dir: Path) -> tuple[Path, str]:
    """The one GWF6 model of ``mfsim.nam`` (file, model name)."""
    mfsim = sim_dir / "mfsim.nam"
    if not mfsim.is_file():
        raise InputError("not a MODFLOW 6 simulation folder (no mfsim.nam)", file=mfsim)
    models = []
    for name, _, lines in read_blocks(mfsim):
        if name == "MODELS":
            models += lines
        if name == "EXCHANGES" and lines:
            raise InputError("exchanges between models are not supported", file=mfsim,
                             field="EXCHANGES")
    gwf = [m for m in models if m[0].upper() == "GWF6"]
    if len(models) != 1 or len(gwf) != 1:
        raise InputError(f"expected exactly one GWF6 model, found {[m[0] for m in models]}",
                         file=mfsim, field="MODELS")
    return sim_dir / gwf[0][1], gwf[0][2]


def check_simulation(sim_dir: str | Path) -> dict[str, object]:
    """Check files, package types and options of a simulation before loading it.

    Returns
    -------
    dict
        ``model_name``, ``newton``, ``under_relaxation`` and ``packages``
        (list of :class:`PackageFile`; every file is read once, here).
    """
    sim_dir = Path(sim_dir)
    nam, model_name = _gwf_name_file(sim_dir)
    nam_opts = {}
    for name, _, lines in read_blocks(nam):
        if name == "OPTIONS":
            for words in lines:
                key = words[0].upper()
                if key not in ALLOWED_OPTIONS["NAM"]:
                    raise InputError(f"GWF name-file option {key} is not supported", file=nam,
                                     field=key)
                nam_opts[key] = [w.upper() for w in words[1:]]
    packages = []
    for ftype, path, pname in _name_file_packages(nam):
        if ftype not in SUPPORTED_FTYPES:
            what = "only structured DIS grids are supported" if ftype in ("DISV6", "DISU6") \
                else "package is not supported by the embedded solver"
            raise InputError(f"{ftype.rstrip('6')}: {what}", file=nam, field=ftype)
        if not path.is_file():
            raise InputError(f"{ftype.rstrip('6')} package file is missing", file=path)
        blocks = read_blocks(path)
        packages.append(PackageFile(ftype, path, pname, _options(blocks, path, ftype), blocks))
    if not any(p.ftype == "DIS6" for p in packages):
        raise InputError("the model has no DIS package", file=nam, field="DIS6")
    return {"model_name": model_name, "newton": "NEWTON" in nam_opts,
            "under_relaxation": "UNDER_RELAXATION" in nam_opts.get("NEWTON", []),
            "packages": packages}


def _period_keys(blocks: Blocks) -> dict[int, bool]:
    """0-based period -> True if the PERIOD block has lines (False if empty)."""
    return {num - 1: bool(lines) for name, num, lines in blocks
            if name == "PERIOD" and num is not None}


def _array(value, shape: tuple[int, ...], what: str, file: Path) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=float), shape).copy()
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} contains NaN or infinite values", file=file, field=what)
    return arr


def _list_block(rec, kind: str, shape: tuple[int, int, int], file: Path) -> dict:
    """A flopy recarray of a list package period as cellid + value arrays, checked."""
    cellid = np.array([tuple(c) for c in rec["cellid"]], dtype=int).reshape(-1, 3)
    bad = np.any((cellid < 0) | (cellid >= np.array(shape)), axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{kind.upper()} cell (layer, row, col) = {tuple(int(v) + 1 for v in cellid[i])} "
            f"is outside the {shape[0]} x {shape[1]} x {shape[2]} grid",
            file=file, field="cellid")
    names = rec.dtype.names
    block = {"cellid": cellid}
    for j, col in enumerate(LIST_COLUMNS[kind]):
        vals = rec[col] if col in names else rec[names[1 + j]]
        block[col] = _array(vals, (len(cellid),), col, file)
    return block


def _load_package(pkg, pf: PackageFile, shape) -> Package:
    kind, path, opts = pf.ftype.rstrip("6").lower(), pf.path, pf.options
    arrays = "READASARRAYS" in opts
    if kind == "evt" and not arrays:
        nseg = [int(w[1]) for n, _, lines in pf.blocks if n == "DIMENSIONS"
                for w in lines if w[0].upper() == "NSEG"]
        if nseg and nseg[0] > 1:
            raise InputError("EVT with NSEG > 1 (segmented ET) is not supported", file=path,
                             field="NSEG")
    afr = opts.get("AUTO_FLOW_REDUCE")
    out = Package(kind=kind, name=pf.pname, readasarrays=arrays, fixed_cell="FIXED_CELL" in opts,
                  auto_flow_reduce=float(afr[0]) if afr else None, file=str(path))
    blocks = _period_keys(pf.blocks)
    if arrays:
        names = ("recharge", "irch") if kind == "rch" else ("surface", "rate", "depth", "ievt")
        for kper in blocks:
            block = {}
            for name in names:
                data = getattr(pkg, name, None)
                val = None if data is None else data.get_data(kper)
                if val is not None and kper in _array_keys(data):
                    block[name] = _array(val, shape[1:], name, path)
            out.periods[kper] = block
    else:
        spd = pkg.stress_period_data.get_data()
        for kper, has_lines in blocks.items():
            rec = spd.get(kper) if has_lines else None
            out.periods[kper] = {} if rec is None else _list_block(rec, kind, shape, path)
    return out


def _array_keys(data) -> set[int]:
    """Periods where a transient flopy array was given in the file."""
    return {int(item[0]) for item in data.get_active_key_list()}


def load_simulation(sim_dir: str | Path) -> GwfModel:
    """Load an MF6 simulation folder with one structured GWF model.

    Parameters
    ----------
    sim_dir
        Folder holding ``mfsim.nam``.

    Returns
    -------
    GwfModel

    Raises
    ------
    InputError
        Missing files, unsupported packages/options, NaN in arrays, cells outside the grid.
    """
    import flopy

    sim_dir = Path(sim_dir)
    info = check_simulation(sim_dir)
    try:
        sim = flopy.mf6.MFSimulation.load(sim_ws=str(sim_dir), verbosity_level=0)
    except Exception as exc:
        raise InputError(f"flopy could not load the simulation: {exc}", file=sim_dir) from exc
    gwf = sim.get_model(info["model_name"])
    by_type: dict[str, PackageFile] = {p.ftype: p for p in info["packages"]}
    dis = gwf.dis
    nlay, nrow, ncol = (int(dis.nlay.get_data()), int(dis.nrow.get_data()),
                        int(dis.ncol.get_data()))
    shape = (nlay, nrow, ncol)
    dis_file = by_type["DIS6"].path
    idomain = dis.idomain.array
    idomain = np.ones(shape, int) if idomain is None else np.asarray(idomain, int).reshape(shape)
    if np.any(idomain < 0):
        raise InputError("IDOMAIN < 0 (vertical pass-through cells) is not supported",
                         file=dis_file, field="idomain")
    top = _array(dis.top.array, shape[1:], "top", dis_file)
    botm = _array(dis.botm.array, shape, "botm", dis_file)
    cell_top = np.concatenate([top[None], botm[:-1]])
    if np.any((cell_top - botm <= 0) & (idomain > 0)):
        raise InputError("an active cell has top <= bottom", file=dis_file, field="botm")
    if "NPF6" not in by_type:
        raise InputError("the model has no NPF package", file=dis_file, field="NPF6")
    npf, npf_file, npf_opts = gwf.npf, by_type["NPF6"].path, by_type["NPF6"].options
    k = _array(npf.k.array, shape, "k", npf_file)
    k22 = k.copy() if npf.k22.array is None else _array(npf.k22.array, shape, "k22", npf_file)
    k33 = k.copy() if npf.k33.array is None else _array(npf.k33.array, shape, "k33", npf_file)
    if "K22OVERK" in npf_opts:
        k22 = k22 * k
    if "K33OVERK" in npf_opts:
        k33 = k33 * k
    for name, arr in (("k", k), ("k22", k22), ("k33", k33)):
        if np.any(arr[idomain > 0] < 0):
            raise InputError(f"{name} must be >= 0", file=npf_file, field=name)
    icelltype = np.broadcast_to(np.asarray(npf.icelltype.array, int), shape).copy()
    strt = _array(gwf.ic.strt.array, shape, "strt", by_type["IC6"].path) if "IC6" in by_type \
        else cell_top.copy()
    tdis = sim.tdis.perioddata.get_data()
    perlen = np.array([r[0] for r in tdis], float)
    nstp = np.array([r[1] for r in tdis], int)
    tsmult = np.array([r[2] for r in tdis], float)
    steady = np.ones(len(perlen), bool)
    iconvert = np.zeros(shape, int)
    ss = np.zeros(shape)
    sy = np.zeros(shape)
    has_sto = "STO6" in by_type
    sto_opts: dict = {}
    if has_sto:
        sto_pf = by_type["STO6"]
        sto_file, sto_opts = sto_pf.path, sto_pf.options
        sto = gwf.sto
        iconvert = np.broadcast_to(np.asarray(sto.iconvert.array, int), shape).copy()
        # MF6 STO defaults when SS/SY are not given: 1e-5 m-1 and 0.15 (MF6 mf6io, STO)
        ss = _array(1e-5 if sto.ss.array is None else sto.ss.array, shape, "ss", sto_file)
        sy = _array(0.15 if sto.sy.array is None else sto.sy.array, shape, "sy", sto_file)
        state = True
        blocks = {num - 1: lines for n, num, lines in sto_pf.blocks if n == "PERIOD" and num}
        for kper in range(len(perlen)):
            if blocks.get(kper):
                state = blocks[kper][0][0].upper().startswith("STEADY")
            steady[kper] = state
    packages = []
    for pf in info["packages"]:
        if pf.ftype in ("CHD6", "WEL6", "RCH6", "EVT6", "DRN6", "GHB6", "RIV6"):
            packages.append(_load_package(gwf.get_package(pf.pname), pf, shape))
        elif pf.ftype == "OBS6":
            log.warning("%s: observations are ignored by the embedded solver", pf.path)
    ims = sim.get_package("ims")
    dvclose, outer_max = 1e-6, 100
    if ims is not None:
        dvclose = float(ims.outer_dvclose.get_data() or dvclose)
        outer_max = int(ims.outer_maximum.get_data() or outer_max)
    dis_opts = by_type["DIS6"].options
    delr = _array(dis.delr.array, (ncol,), "delr", dis_file)
    delc = _array(dis.delc.array, (nrow,), "delc", dis_file)
    return GwfModel(
        nlay=nlay, nrow=nrow, ncol=ncol, delr=delr, delc=delc, top=top, botm=botm,
        idomain=idomain, strt=strt, icelltype=icelltype, k=k, k22=k22, k33=k33,
        iconvert=iconvert, ss=ss, sy=sy, perlen=perlen, nstp=nstp, tsmult=tsmult,
        steady=steady, has_sto=has_sto, storagecoefficient="STORAGECOEFFICIENT" in sto_opts,
        newton=bool(info["newton"]), under_relaxation=bool(info["under_relaxation"]),
        packages=packages, name=str(info["model_name"]),
        xorigin=float(dis_opts.get("XORIGIN", ["0"])[0]),
        yorigin=float(dis_opts.get("YORIGIN", ["0"])[0]),
        outer_dvclose=dvclose, outer_maximum=outer_max, sim_dir=str(sim_dir))


def model_from_spec(spec, workdir: str | Path | None = None) -> GwfModel:
    """Build a model from a city description (:class:`~.build.ModelSpec`).

    The spec is written as an MF6 simulation with :func:`~.build.write_simulation` (flopy)
    into ``workdir`` (default: a temporary folder) and loaded back, so the embedded solver
    and mf6 see exactly the same input files.
    """
    import tempfile

    from .build import write_simulation

    if workdir is not None:
        return load_simulation(write_simulation(spec, workdir))
    with tempfile.TemporaryDirectory(prefix="gwf_spec_") as tmp:
        model = load_simulation(write_simulation(spec, tmp))
    return model

"""Read a MODFLOW 6 simulation folder into a :class:`~.model.GwfModel` (flopy stays here).

The name files and the OPTIONS/PERIOD block structure are scanned first. A package type or
option the embedded solver does not run (HFB, SFR, MAW, LAK, UZF, NPF XT3D, ...) does not
stop the load: it is recorded in :attr:`~.model.GwfModel.unsupported` (the embedded solver
raises an :class:`~irrigation.errors.InputError` naming file, package and option) and such
packages in :attr:`~.model.GwfModel.foreign` (the mf6 backend passes them through). flopy
then reads the arrays and lists of the packages the embedded solver runs.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .mf6files import Blocks, SimulationFiles, block_lines, read_blocks, read_simulation_files
from .model import LIST_COLUMNS, ForeignPackage, GwfModel, Package, Unsupported

log = logging.getLogger(__name__)

_BND_COMMON = {"AUXILIARY", "BOUNDNAMES", "PRINT_INPUT", "PRINT_FLOWS", "SAVE_FLOWS", "OBS6"}
#: Options the embedded solver runs, per package type (first word of an OPTIONS line).
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
}
#: Boundary packages the embedded solver runs.
STRESS_FTYPES = ("CHD6", "WEL6", "DRN6", "GHB6", "RIV6", "RCH6", "EVT6")
#: Packages that define the flow model itself (read for every backend).
CORE_FTYPES = ("DIS6", "IC6", "NPF6", "STO6", "OC6")


class PackageFile(NamedTuple):
    """A package listed in the GWF name file, its options and its parsed blocks."""

    ftype: str
    path: Path
    pname: str
    options: dict[str, list[str]]
    blocks: Blocks


def _unsupported_options(pf: PackageFile) -> list[Unsupported]:
    allowed = ALLOWED_OPTIONS.get(pf.ftype, set())
    return [Unsupported(str(pf.path), key, f"option {key} of package {pf.ftype.rstrip('6')} "
                        "is not supported by the embedded solver")
            for key in pf.options if key not in allowed]


def _nseg(pf: PackageFile) -> int:
    return int(next((w[1] for w in block_lines(pf.blocks, "DIMENSIONS")
                     if w[0].upper() == "NSEG"), 1))


def check_simulation(files: SimulationFiles) -> tuple[list[PackageFile], list[ForeignPackage],
                                                      list[Unsupported]]:
    """Check files, package types and options of a simulation before loading it.

    Returns
    -------
    (packages, foreign, unsupported)
        Packages the embedded model is read from (every file read once, here), packages
        only mf6 runs, and what the embedded solver cannot run.

    Raises
    ------
    InputError
        A missing package file, a grid other than DIS, no DIS or NPF package.
    """
    nam = files.gwf_nam
    unsupported = [Unsupported(str(nam), key, f"GWF name-file option {key} is not supported "
                               "by the embedded solver")
                   for key in files.nam_options if key not in ALLOWED_OPTIONS["NAM"]]
    packages, foreign = [], []
    for entry in files.packages:
        ftype, path = entry.ftype, entry.path
        if ftype in ("DISV6", "DISU6"):
            raise InputError(f"{ftype.rstrip('6')}: only structured DIS grids are supported",
                             file=nam, field=ftype)
        if not path.is_file():
            raise InputError(f"{ftype.rstrip('6')} package file is missing", file=path)
        blocks = read_blocks(path)
        opts = {w[0].upper(): w[1:] for w in block_lines(blocks, "OPTIONS")}
        pf = PackageFile(ftype, path, entry.pname, opts, blocks)
        if ftype == "OBS6":
            log.warning("%s: observations are ignored by the embedded solver", path)
            foreign.append(ForeignPackage(ftype, entry.pname, path))
            continue
        if ftype not in ALLOWED_OPTIONS:
            unsupported.append(Unsupported(str(nam), ftype, f"package {ftype.rstrip('6')} is "
                                           "not supported by the embedded solver"))
            foreign.append(ForeignPackage(ftype, entry.pname, path))
            continue
        bad = _unsupported_options(pf)
        if ftype == "EVT6" and "READASARRAYS" not in opts and _nseg(pf) > 1:
            bad.append(Unsupported(str(path), "NSEG", "EVT with NSEG > 1 (segmented ET) is "
                                   "not supported by the embedded solver"))
        unsupported += bad
        if bad and ftype in STRESS_FTYPES:
            foreign.append(ForeignPackage(ftype, entry.pname, path))
        else:
            packages.append(pf)
    if not any(p.ftype == "DIS6" for p in packages):
        raise InputError("the model has no DIS package", file=nam, field="DIS6")
    if not any(p.ftype == "NPF6" for p in packages):
        raise InputError("the model has no NPF package", file=nam, field="NPF6")
    return packages, foreign, unsupported


def _period_keys(blocks: Blocks) -> dict[int, bool]:
    """0-based period -> True if the PERIOD block has lines (False if empty)."""
    return {num - 1: bool(lines) for name, num, lines in blocks
            if name == "PERIOD" and num is not None}


def _array(value, shape: tuple[int, ...], what: str, file: Path) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=float), shape).copy()
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} contains NaN or infinite values", file=file, field=what)
    return arr


def check_cells(cellid: np.ndarray, idomain: np.ndarray, kind: str,
                file: str | Path | None = None) -> None:
    """List-input cells (n, 3) (0-based) must lie in the grid on cells with IDOMAIN > 0.

    Notes
    -----
    MF6 stops on a list entry in a cell that is not part of the model ("Cell is outside
    active grid domain", BndExt ``nodelist_update``); so does this check.

    Raises
    ------
    InputError
        Naming the package, the 1-based cell and the file.
    """
    shape = idomain.shape
    bad = np.any((cellid < 0) | (cellid >= np.array(shape)), axis=1)
    what = f"is outside the {shape[0]} x {shape[1]} x {shape[2]} grid"
    if not bad.any():
        k, i, j = cellid.T
        bad = idomain[k, i, j] <= 0
        what = "is not part of the model (IDOMAIN <= 0)"
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{kind.upper()} cell (layer, row, col) = "
                         f"{tuple(int(v) + 1 for v in cellid[i])} {what}",
                         file=file, field="cellid")


def _list_block(rec, kind: str, idomain: np.ndarray, file: Path) -> dict:
    """A flopy recarray of a list package period as cellid + value arrays, checked."""
    cellid = np.array([tuple(c) for c in rec["cellid"]], dtype=int).reshape(-1, 3)
    check_cells(cellid, idomain, kind, file)
    names = rec.dtype.names
    block = {"cellid": cellid}
    for j, col in enumerate(LIST_COLUMNS[kind]):
        vals = rec[col] if col in names else rec[names[1 + j]]
        block[col] = _array(vals, (len(cellid),), col, file)
    return block


def _load_package(pkg, pf: PackageFile, idomain: np.ndarray) -> Package:
    kind, path, opts = pf.ftype.rstrip("6").lower(), pf.path, pf.options
    shape = idomain.shape
    arrays = "READASARRAYS" in opts
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
            for name in ("irch", "ievt"):  # flopy gives 0-based layers
                if name in block and ((block[name] < 0) | (block[name] >= shape[0])).any():
                    raise InputError(f"{name.upper()} must be a layer in 1..{shape[0]}",
                                     file=path, field=name.upper())
            out.periods[kper] = block
    else:
        spd = pkg.stress_period_data.get_data()
        for kper, has_lines in blocks.items():
            rec = spd.get(kper) if has_lines else None
            out.periods[kper] = {} if rec is None else _list_block(rec, kind, idomain, path)
    return out


def _array_keys(data) -> set[int]:
    """Periods where a transient flopy array was given in the file."""
    return {int(item[0]) for item in data.get_active_key_list()}


def read_tdis(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PERLEN [d], NSTP and TSMULT of every stress period of a TDIS file.

    Raises
    ------
    InputError
        NPER and the PERIODDATA rows disagree, or a row is not three numbers.
    """
    blocks = read_blocks(path)
    nper = int(next((w[1] for w in block_lines(blocks, "DIMENSIONS")
                     if w[0].upper() == "NPER"), 1))
    rows = block_lines(blocks, "PERIODDATA")
    try:
        data = np.array([[float(w[0]), float(w[1]), float(w[2])] for w in rows]).reshape(-1, 3)
    except (ValueError, IndexError) as exc:
        raise InputError(f"PERIODDATA rows must be PERLEN NSTP TSMULT: {exc}", file=path,
                         field="PERIODDATA") from exc
    if len(data) != nper:
        raise InputError(f"NPER is {nper} but PERIODDATA has {len(data)} rows", file=path,
                         field="NPER")
    return data[:, 0], data[:, 1].astype(int), data[:, 2]


#: IMS defaults of OUTER_DVCLOSE [m] and OUTER_MAXIMUM per COMPLEXITY (mf6io, IMS).
IMS_DEFAULTS = {"SIMPLE": (1e-3, 25), "MODERATE": (1e-2, 50), "COMPLEX": (1e-1, 100)}


def read_ims(path: Path | None) -> tuple[float, int]:
    """OUTER_DVCLOSE [m] and OUTER_MAXIMUM of an IMS file (MF6 defaults when not given)."""
    if path is None or not path.is_file():
        return IMS_DEFAULTS["SIMPLE"]
    blocks = read_blocks(path)
    cplx = next((w[1].upper() for w in block_lines(blocks, "OPTIONS")
                 if w[0].upper() == "COMPLEXITY" and len(w) > 1), "SIMPLE")
    dvclose, outer_max = IMS_DEFAULTS.get(cplx, IMS_DEFAULTS["SIMPLE"])
    for w in block_lines(blocks, "NONLINEAR"):
        key = w[0].upper()
        if key in ("OUTER_DVCLOSE", "OUTER_HCLOSE") and len(w) > 1:
            dvclose = float(w[1].replace("D", "E").replace("d", "e"))
        elif key == "OUTER_MAXIMUM" and len(w) > 1:
            outer_max = int(w[1])
    return dvclose, outer_max


def _storage(sto, pf: PackageFile | None, shape, nper: int):
    """ICONVERT, SS, SY and the steady flag per period from STO (all steady without it)."""
    steady = np.ones(nper, bool)
    if pf is None:
        return np.zeros(shape, int), np.zeros(shape), np.zeros(shape), steady
    iconvert = np.broadcast_to(np.asarray(sto.iconvert.array, int), shape).copy()
    # MF6 STO defaults when SS/SY are not given: 1e-5 m-1 and 0.15 (MF6 mf6io, STO)
    ss = _array(1e-5 if sto.ss.array is None else sto.ss.array, shape, "ss", pf.path)
    sy = _array(0.15 if sto.sy.array is None else sto.sy.array, shape, "sy", pf.path)
    state = True
    blocks = {num - 1: lines for n, num, lines in pf.blocks if n == "PERIOD" and num}
    for kper in range(nper):
        if blocks.get(kper):
            state = blocks[kper][0][0].upper().startswith("STEADY")
        steady[kper] = state
    return iconvert, ss, sy, steady


def flopy_error(exc: Exception, sim_dir: Path) -> InputError:
    """A one-line error of flopy's failure to load a simulation: the package file, the
    line where the failing data element starts and its text, what flopy could not read.
    """
    text = str(exc)  # flopy.mf6.mfbase.MFDataException names file, block and element
    file = re.search(r'from file "([^"]+)"', text)
    block = re.search(r'in block "([^"]+)"', text)
    element = getattr(exc, "data_element", None)
    if file is None or not element:
        return InputError(f"flopy could not load the simulation: {exc}", file=sim_dir)
    first = re.search(r"\(1\) ([^(]+)", text)
    why = first.group(1).strip() if first else str(getattr(exc, "org_value", "") or "?")
    row, line = _first_line_of(Path(file.group(1)), str(element))
    shown = f" ({line[:60]!r})" if line else ""
    return InputError(f"flopy cannot read this{shown} in block "
                      f"{block.group(1) if block else '?'}: {why.splitlines()[0][:120]}",
                      file=file.group(1), row=row, field=str(element))


def _first_line_of(file: Path, keyword: str) -> tuple[int | None, str]:
    """The 1-based line of ``file`` whose first word is ``keyword``, and its text."""
    try:
        lines = file.read_text(errors="replace").splitlines()
    except OSError:
        return None, ""
    for k, line in enumerate(lines, start=1):
        words = line.split()
        if words and words[0].lower() == keyword.lower():
            return k, line.strip()
    return None, ""


def load_simulation(sim_dir: str | Path) -> GwfModel:
    """Load an MF6 simulation folder with one structured GWF model.

    Parameters
    ----------
    sim_dir
        Folder holding ``mfsim.nam``.

    Returns
    -------
    GwfModel
        With :attr:`~.model.GwfModel.unsupported` listing what only mf6 can run.

    Raises
    ------
    InputError
        Missing files, a grid other than DIS, NaN in arrays, cells outside the grid.
    """
    import flopy

    sim_dir = Path(sim_dir)
    files = read_simulation_files(sim_dir)
    pfiles, foreign, unsupported = check_simulation(files)
    by_type: dict[str, PackageFile] = {p.ftype: p for p in pfiles}
    try:
        sim = flopy.mf6.MFSimulation.load(sim_ws=str(sim_dir), verbosity_level=0,
                                          load_only=[p.pname for p in pfiles])
    except Exception as exc:
        raise flopy_error(exc, sim_dir) from None
    gwf = sim.get_model(files.model_name)
    dis = gwf.dis
    nlay, nrow, ncol = (int(dis.nlay.get_data()), int(dis.nrow.get_data()),
                        int(dis.ncol.get_data()))
    shape = (nlay, nrow, ncol)
    dis_file = by_type["DIS6"].path
    idomain = dis.idomain.array
    idomain = np.ones(shape, int) if idomain is None else np.asarray(idomain, int).reshape(shape)
    top = _array(dis.top.array, shape[1:], "top", dis_file)
    botm = _array(dis.botm.array, shape, "botm", dis_file)
    cell_top = np.concatenate([top[None], botm[:-1]])
    if np.any((cell_top - botm <= 0) & (idomain > 0)):
        raise InputError("an active cell has top <= bottom", file=dis_file, field="botm")
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
    perlen, nstp, tsmult = read_tdis(files.tdis)
    sto_pf = by_type.get("STO6")
    iconvert, ss, sy, steady = _storage(gwf.sto if sto_pf else None, sto_pf, shape, len(perlen))
    packages = [_load_package(gwf.get_package(pf.pname), pf, idomain) for pf in pfiles
                if pf.ftype in STRESS_FTYPES]
    dvclose, outer_max = read_ims(files.ims[0] if files.ims else None)
    dis_opts = by_type["DIS6"].options
    delr = _array(dis.delr.array, (ncol,), "delr", dis_file)
    delc = _array(dis.delc.array, (nrow,), "delc", dis_file)
    arrays = {"delr": delr, "delc": delc, "top": top, "botm": botm, "idomain": idomain,
              "icelltype": icelltype, "k": k, "k22": k22, "k33": k33, "iconvert": iconvert,
              "ss": ss, "sy": sy}
    newton = files.nam_options.get("NEWTON")
    return GwfModel(
        nlay=nlay, nrow=nrow, ncol=ncol, strt=strt, perlen=perlen, nstp=nstp, tsmult=tsmult,
        steady=steady, has_sto=sto_pf is not None,
        storagecoefficient="STORAGECOEFFICIENT" in (sto_pf.options if sto_pf else {}),
        newton=newton is not None, under_relaxation="UNDER_RELAXATION" in (newton or []),
        packages=packages, name=files.model_name,
        xorigin=float(dis_opts.get("XORIGIN", ["0"])[0]),
        yorigin=float(dis_opts.get("YORIGIN", ["0"])[0]),
        outer_dvclose=dvclose, outer_maximum=outer_max, sim_dir=str(sim_dir), oc=files.oc,
        source=files, source_kper=np.arange(len(perlen)), source_arrays=arrays,
        foreign=tuple(foreign), unsupported=tuple(unsupported),
        sto_name=sto_pf.pname if sto_pf else "sto", **arrays)


def model_from_spec(spec, workdir: str | Path | None = None) -> GwfModel:
    """Build a model from a city description (:class:`~.build.ModelSpec`).

    The spec is written as an MF6 simulation with :func:`~.build.write_simulation` (flopy)
    into ``workdir`` (default: a temporary folder) and loaded back, so the embedded solver
    and mf6 see exactly the same input files. Without ``workdir`` the model keeps no link
    to the (deleted) folder.
    """
    import tempfile

    from .build import write_simulation

    if workdir is not None:
        return load_simulation(write_simulation(spec, workdir))
    with tempfile.TemporaryDirectory(prefix="gwf_spec_") as tmp:
        model = load_simulation(write_simulation(spec, tmp))
    return model.replace(source=None, source_kper=None, source_arrays={}, sim_dir="")

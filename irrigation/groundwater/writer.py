"""Write a :class:`~.model.GwfModel` as a MODFLOW 6 simulation folder for the mf6 backend.

A model loaded from a folder (``model.source``) is written *from that folder*: the folder
is linked into the new one and only what the model changes is written anew (the name
files in the folder itself, everything else under :data:`SUB`): TDIS (its periods), IC
(its starting heads), STO (steady/transient per period), OC (heads and budgets to save)
and the boundary packages the model holds (a forecast's recharge and wells, a scenario's
scaled pumping). The folder's own IMS,
DIS and NPF (when their arrays are unchanged) and every package only mf6 runs (HFB, SFR,
MAW, LAK, UZF, ...) are used as delivered; the stresses of those packages in force at the
model's :attr:`~.model.GwfModel.source_kper` periods are carried over. A model built from
arrays is written whole, with an IMS whose inner tolerances are tighter than the outer
one (MF6 IMS: an outer iteration cannot converge below the accuracy of its inner solve).

Large arrays go to binary files read with ``OPEN/CLOSE ... (BINARY)``: a header
``KSTP KPER PERTIM TOTIM TEXT M1 M2 M3`` then ``M1 x M2`` doubles (MF6 mf6io,
"Binary Input Files"; one header for a whole array); integer arrays are written as
text.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelError
from .mf6files import OutputControl, SimulationFiles, copy_inputs, read_blocks, strip_comments
from .model import LIST_COLUMNS, GwfModel, Package

SUB = "derived"
"""Subfolder of the written simulation that holds every file written here."""

#: Package types whose PERIOD blocks add to the settings in force (reach, well, lake or
#: UZF-cell settings persist until changed), unlike list packages whose block replaces
#: the whole list (mf6io: SFR, MAW, LAK, UZF "PERIOD block" notes).
ACCUMULATING_FTYPES = {"SFR6", "MAW6", "LAK6", "UZF6"}

_HEADER = np.dtype([("kstp", "<i4"), ("kper", "<i4"), ("pertim", "<f8"), ("totim", "<f8"),
                    ("text", "S16"), ("m1", "<i4"), ("m2", "<i4"), ("m3", "<i4")])


def _fmt(x: float) -> str:
    return repr(float(x))


class _Files:
    """Writes files under ``ws/SUB`` and returns their paths relative to ``ws``."""

    def __init__(self, ws: Path):
        self.ws = ws
        (ws / SUB).mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> str:
        return f"{SUB}/{name}"

    def text(self, name: str, content: str) -> str:
        target = self.ws / SUB / name
        target.unlink(missing_ok=True)
        target.write_text(content)
        return self.path(name)

    def binary(self, name: str, arr: np.ndarray, text: str) -> str:
        """A double array as a binary input file: one header (M1 = NCOL, M2 = the other
        sizes; MF6 reads M1 x M2 values after it), then the values in C order."""
        a = np.ascontiguousarray(arr, dtype="<f8")
        ncol = a.shape[-1] if a.ndim else 1
        hdr = np.array([(1, 1, 1.0, 1.0, text.upper().rjust(16)[:16].encode(), ncol,
                         a.size // max(ncol, 1), 1)], dtype=_HEADER)
        with open(self.ws / SUB / name, "wb") as f:
            f.write(hdr.tobytes())
            f.write(a.tobytes())
        return self.path(name)


def _float_array(files: _Files, name: str, arr: np.ndarray, fname: str) -> str:
    """MF6 array input of a float array: CONSTANT when uniform, else a binary file."""
    a = np.asarray(arr, dtype=float)
    if a.size and np.all(a == a.flat[0]):
        return f"  {name}\n    CONSTANT {_fmt(a.flat[0])}\n"
    return f"  {name}\n    OPEN/CLOSE {files.binary(fname, a, name)} FACTOR 1.0 (BINARY)\n"


def _int_array(name: str, arr: np.ndarray, layered: bool = True) -> str:
    """MF6 array input of an integer array (text; CONSTANT per layer when uniform)."""
    a = np.asarray(arr, dtype=int)
    if a.ndim == 2 or not layered:
        if a.size and np.all(a == a.flat[0]):
            return f"  {name}\n    CONSTANT {int(a.flat[0])}\n"
        rows = "\n".join("      " + " ".join(map(str, r)) for r in a.reshape(-1, a.shape[-1]))
        return f"  {name}\n    INTERNAL FACTOR 1\n{rows}\n"
    out = [f"  {name} LAYERED\n"]
    for layer in a:
        if np.all(layer == layer.flat[0]):
            out.append(f"    CONSTANT {int(layer.flat[0])}\n")
        else:
            rows = "\n".join("      " + " ".join(map(str, r)) for r in layer)
            out.append(f"    INTERNAL FACTOR 1\n{rows}\n")
    return "".join(out)


def _block(name: str, body: str, num: int | None = None) -> str:
    tag = f"{name} {num}" if num is not None else name
    return f"BEGIN {tag}\n{body}END {tag}\n\n"


# --------------------------------------------------------------------------- packages


def _tdis(model: GwfModel) -> str:
    rows = "".join(f"  {_fmt(p)} {int(n)} {_fmt(m)}\n"
                   for p, n, m in zip(model.perlen, model.nstp, model.tsmult, strict=True))
    return (_block("OPTIONS", "  TIME_UNITS days\n") +
            _block("DIMENSIONS", f"  NPER {model.nper}\n") + _block("PERIODDATA", rows))


def _ims(model: GwfModel) -> str:
    """IMS for a model built from arrays: inner criteria 100 x tighter than the outer."""
    dvclose = min(model.outer_dvclose, 1e-6)
    nonlin = f"  OUTER_DVCLOSE {_fmt(dvclose)}\n  OUTER_MAXIMUM {max(model.outer_maximum, 100)}\n"
    if model.newton:
        nonlin += "  UNDER_RELAXATION DBD\n"
    linear = (f"  INNER_MAXIMUM 500\n  INNER_DVCLOSE {_fmt(dvclose / 100)}\n"
              f"  INNER_RCLOSE 1e-6\n  LINEAR_ACCELERATION "
              f"{'BICGSTAB' if model.newton else 'CG'}\n")
    cplx = "MODERATE" if model.newton else "SIMPLE"
    return (_block("OPTIONS", f"  COMPLEXITY {cplx}\n") + _block("NONLINEAR", nonlin) +
            _block("LINEAR", linear))


def _dis(files: _Files, model: GwfModel) -> str:
    opts = f"  LENGTH_UNITS meters\n  XORIGIN {_fmt(model.xorigin)}\n" \
           f"  YORIGIN {_fmt(model.yorigin)}\n"
    dims = f"  NLAY {model.nlay}\n  NROW {model.nrow}\n  NCOL {model.ncol}\n"
    grid = (_float_array(files, "DELR", model.delr[None, :], "delr.bin") +
            _float_array(files, "DELC", model.delc[None, :], "delc.bin") +
            _float_array(files, "TOP", model.top, "top.bin") +
            _float_array(files, "BOTM", model.botm, "botm.bin") +
            _int_array("IDOMAIN", model.idomain))
    return _block("OPTIONS", opts) + _block("DIMENSIONS", dims) + _block("GRIDDATA", grid)


def _npf(files: _Files, model: GwfModel) -> str:
    grid = (_int_array("ICELLTYPE", model.icelltype) +
            _float_array(files, "K", model.k, "k.bin") +
            _float_array(files, "K22", model.k22, "k22.bin") +
            _float_array(files, "K33", model.k33, "k33.bin"))
    return _block("OPTIONS", "  SAVE_FLOWS\n") + _block("GRIDDATA", grid)


def _sto_periods(model: GwfModel) -> str:
    out, last = [], None
    for kper, steady in enumerate(model.steady):
        if steady != last:
            out.append(_block("PERIOD", "  STEADY-STATE\n" if steady else "  TRANSIENT\n",
                              kper + 1))
            last = steady
    return "".join(out)


def _sto(files: _Files, model: GwfModel) -> str:
    opts = "  SAVE_FLOWS\n" + ("  STORAGECOEFFICIENT\n" if model.storagecoefficient else "")
    grid = (_int_array("ICONVERT", model.iconvert) +
            _float_array(files, "SS", model.ss, "ss.bin") +
            _float_array(files, "SY", model.sy, "sy.bin"))
    return _block("OPTIONS", opts) + _block("GRIDDATA", grid) + _sto_periods(model)


def _ic(files: _Files, model: GwfModel) -> str:
    return _block("GRIDDATA", _float_array(files, "STRT", model.strt, "strt.bin"))


def _oc_rule(rule: tuple) -> str:
    return " ".join(str(w) for w in rule)


def _oc(oc: OutputControl, head: str, budget: str) -> str:
    files = f"  HEAD FILEOUT {head}\n"
    if any(rule is not None for rule in oc.budget.values()):
        files += f"  BUDGET FILEOUT {budget}\n"
    out = [_block("OPTIONS", files)]
    for kper in sorted(set(oc.head) | set(oc.budget)):
        lines = ""
        for what, rules in (("HEAD", oc.head), ("BUDGET", oc.budget)):
            rule = _rule_at(rules, kper)
            if rule is not None:
                lines += f"  SAVE {what} {_oc_rule(rule)}\n"
        out.append(_block("PERIOD", lines, kper + 1))
    return "".join(out)


def _rule_at(rules: dict, kper: int):
    """The rule in force in ``kper`` (the last block at or before it)."""
    keys = [k for k in rules if k <= kper]
    return rules[max(keys)] if keys else None


def _list_rows(pkg: Package, block: dict) -> str:
    """Rows ``layer row col value...`` (1-based cells, values to 17 digits)."""
    cid = np.asarray(block["cellid"], int).reshape(-1, 3) + 1
    vals = np.column_stack([np.asarray(block[c], float) for c in LIST_COLUMNS[pkg.kind]])
    buf = io.StringIO()
    np.savetxt(buf, np.column_stack([cid, vals]).astype(object),
               fmt=["  %d", "%d", "%d"] + ["%.17g"] * vals.shape[1])
    return buf.getvalue()


def _stress(files: _Files, pkg: Package) -> str:
    """A boundary package from its data (list or READASARRAYS input)."""
    opts = ""
    if pkg.readasarrays:
        opts += "  READASARRAYS\n"
    if pkg.fixed_cell:
        opts += "  FIXED_CELL\n"
    if pkg.kind == "wel" and pkg.auto_flow_reduce is not None:
        opts += f"  AUTO_FLOW_REDUCE {_fmt(pkg.auto_flow_reduce)}\n"
    out = [_block("OPTIONS", opts)]
    if not pkg.readasarrays:
        nmax = max([len(b.get("cellid", ())) for b in pkg.periods.values()] + [1])
        dims = f"  MAXBOUND {nmax}\n" + ("  NSEG 1\n" if pkg.kind == "evt" else "")
        out.append(_block("DIMENSIONS", dims))
    for kper in sorted(pkg.periods):
        block = pkg.periods[kper]
        if pkg.readasarrays:
            body = ""
            for name, arr in block.items():
                if name in ("irch", "ievt"):  # 0-based in the model, 1-based in the file
                    body += _int_array(name.upper(), np.asarray(arr, int) + 1)
                else:
                    fname = f"{pkg.name}.{name}.{kper + 1}.bin"
                    body += _float_array(files, name.upper(), arr, fname)
        else:
            body = _list_rows(pkg, block) if block else ""
        out.append(_block("PERIOD", body, kper + 1))
    return "".join(out)


# --------------------------------------------------------------------------- foreign


_PERIOD_RE = re.compile(r"^[ \t]*BEGIN[ \t]+PERIOD\b.*?^[ \t]*END[ \t]+PERIOD\b[^\n]*\n?",
                        re.I | re.M | re.S)


def without_period_blocks(text: str) -> str:
    """The file text with every PERIOD block removed (comments elsewhere kept)."""
    return _PERIOD_RE.sub("", text)


def _period_contents(text: str) -> dict[int, str]:
    """1-based period -> the raw lines inside its PERIOD block."""
    out = {}
    for m in _PERIOD_RE.finditer(text):
        lines = m.group(0).splitlines()
        num = re.findall(r"\d+", lines[0])
        out[int(num[0]) if num else 1] = "\n".join(lines[1:-1]) + "\n"
    return out


def carried_periods(path: Path, ftype: str, source_kper: np.ndarray) -> str:
    """The package file with PERIOD blocks that give, in every period ``i`` of a derived
    model, the stresses of source period ``source_kper[i]``.

    Notes
    -----
    MF6 PERIOD semantics (mf6io, "Stress Packages"): a list package's block replaces the
    whole list and stays in force until the next block (an empty block switches it off);
    READASARRAYS input keeps each array until it is given again; SFR, MAW, LAK and UZF
    blocks change only the settings they list. A new block is written whenever the source
    period changes: the last block at or before it, all arrays in force, or every setting
    given up to it.
    """
    raw = path.read_text(errors="replace")
    options = " ".join(w for w in strip_comments(raw).upper().split())
    if " TS6 " in f" {options} " or " TAS6 " in f" {options} ":
        raise InputError("time series (TS6/TAS6) cannot be carried into a model with other "
                         "stress periods", file=path, field="TS6")
    src = _period_contents(strip_comments(raw))
    arrays = "READASARRAYS" in options
    out, last = [without_period_blocks(raw).rstrip() + "\n\n"], None
    for i, p in enumerate(np.asarray(source_kper, int) + 1):
        if p == last:
            continue
        last = p
        before = sorted(k for k in src if k <= p)
        if not before:
            body = ""
        elif ftype in ACCUMULATING_FTYPES:
            body = "".join(src[k] for k in before)
        elif arrays:
            body = "".join(_merged_arrays([src[k] for k in before]))
        else:
            body = src[before[-1]]
        out.append(_block("PERIOD", body if body.endswith("\n") or not body else body + "\n",
                          i + 1))
    return "".join(out)


def _merged_arrays(blocks: list[str]) -> list[str]:
    """Array keywords of READASARRAYS blocks, each from the last block that gives it."""
    latest: dict[str, str] = {}
    for body in blocks:
        current = None
        for line in body.splitlines():
            words = line.split()
            if not words:
                continue
            if words[0].upper() not in ("CONSTANT", "INTERNAL", "OPEN/CLOSE") and \
                    not _is_number(words[0]):
                current = words[0].upper()
                latest[current] = line + "\n"
            elif current is not None:
                latest[current] += line + "\n"
    return list(latest.values())


def _is_number(word: str) -> bool:
    try:
        float(word.replace("D", "E").replace("d", "e"))
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- folders


def _same(model: GwfModel, names: tuple[str, ...]) -> bool:
    """True when the model's arrays ``names`` are those loaded from its source folder."""
    src = model.source_arrays
    for name in names:
        new, old = getattr(model, name), src.get(name)
        if old is None or not (new is old or np.array_equal(new, old)):
            return False
    return True


def _identity(model: GwfModel) -> bool:
    """The model's periods are the first periods of its source folder, unchanged."""
    return model.source_kper is not None and np.array_equal(
        model.source_kper, np.arange(len(model.source_kper)))


def write_model(model: GwfModel, ws: str | Path) -> Path:
    """Write ``model`` as an MF6 simulation in ``ws`` (created); returns ``ws``.

    Raises
    ------
    ModelError
        The model's source folder is gone but the model needs its files (packages only mf6
        runs), or a changed DIS/NPF/STO array must be written for a file with options only
        mf6 reads.
    """

    ws = Path(ws)
    ws.mkdir(parents=True, exist_ok=True)
    files = _Files(ws)
    src = model.source
    if src is not None and not src.sim_dir.is_dir():
        if model.foreign or model.unsupported:
            raise ModelError(f"the model's folder {src.sim_dir} is gone; its packages "
                             f"{[p.ftype for p in model.foreign]} cannot be written")
        src = None
    entries: list[tuple[str, str, str]] = []
    head, budget = files.path(f"{model.name}.hds"), files.path(f"{model.name}.cbc")
    if src is not None:
        copy_inputs(src.sim_dir, ws, src)
        entries += _core_from_source(files, model, src)
    else:
        entries += [("DIS6", files.text("model.dis", _dis(files, model)), "dis"),
                    ("NPF6", files.text("model.npf", _npf(files, model)), "npf")]
        if model.has_sto:
            entries.append(("STO6", files.text("model.sto", _sto(files, model)),
                            model.sto_name))
    entries.append(("IC6", files.text("model.ic", _ic(files, model)), "ic"))
    for pkg in model.packages:
        ext = pkg.kind + ("a" if pkg.readasarrays else "")
        entries.append((f"{pkg.kind.upper()}6", files.text(f"{pkg.name}.{ext}",
                                                           _stress(files, pkg)), pkg.name))
    if src is not None:
        entries += _foreign_from_source(files, model, src)
    entries.append(("OC6", files.text("model.oc", _oc(model.oc, head, budget)), "oc"))
    nam = f"{model.name}.nam"  # in the folder itself: flopy reads paths relative to it
    (ws / nam).unlink(missing_ok=True)
    (ws / nam).write_text(_gwf_nam(model, entries, src))
    tdis = files.text("sim.tdis", _tdis(model))
    ims_lines = _solution_lines(model, src, files)
    mfsim = (_block("OPTIONS", "") + _block("TIMING", f"  TDIS6 {tdis}\n") +
             _block("MODELS", f"  GWF6 {nam} {model.name}\n") + _block("EXCHANGES", "") +
             _block("SOLUTIONGROUP", ims_lines, 1))
    (ws / "mfsim.nam").unlink(missing_ok=True)
    (ws / "mfsim.nam").write_text(mfsim)
    return ws


def _rel(src: SimulationFiles, path: Path) -> str:
    return path.relative_to(src.sim_dir).as_posix()


def _core_from_source(files: _Files, model: GwfModel, src: SimulationFiles
                      ) -> list[tuple[str, str, str]]:
    """DIS, NPF (as delivered unless changed) and STO (its periods rewritten)."""
    out = []
    unsupported = {u.file for u in model.unsupported}
    for ftype, names, write in (("DIS6", ("delr", "delc", "top", "botm", "idomain"), _dis),
                                ("NPF6", ("icelltype", "k", "k22", "k33"), _npf)):
        entry = src.package(ftype)
        if entry is not None and _same(model, names):
            out.append((ftype, _rel(src, entry.path), entry.pname))
        elif entry is not None and str(entry.path) in unsupported:
            raise ModelError(f"{ftype.rstrip('6')} arrays were changed, but its file has "
                             f"options only mf6 reads: {entry.path}")
        else:
            name = ftype.rstrip("6").lower()
            out.append((ftype, files.text(f"model.{name}", write(files, model)), name))
    if model.has_sto:
        entry = src.package("STO6")
        if entry is not None and _same(model, ("iconvert", "ss", "sy")):
            text = without_period_blocks(entry.path.read_text(errors="replace"))
            text = text.rstrip() + "\n\n" + _sto_periods(model)
        elif entry is not None and str(entry.path) in unsupported:
            raise ModelError(f"STO arrays were changed, but its file has options only mf6 "
                             f"reads: {entry.path}")
        else:
            text = _sto(files, model)
        out.append(("STO6", files.text("model.sto", text), model.sto_name))
    return out


def _foreign_from_source(files: _Files, model: GwfModel, src: SimulationFiles
                         ) -> list[tuple[str, str, str]]:
    """Packages only mf6 runs: as delivered, or with their stresses carried to the
    model's periods (:func:`carried_periods`)."""
    out = []
    same_periods = _identity(model)
    for fp in model.foreign:
        if same_periods or fp.ftype == "OBS6" or not any(
                n == "PERIOD" for n, _, _ in read_blocks(fp.path)):
            out.append((fp.ftype, _rel(src, fp.path), fp.pname))
            continue
        if model.source_kper is None or len(model.source_kper) != model.nper:
            raise ModelError(f"cannot tell which periods of {fp.path} apply to the model's "
                             f"{model.nper} stress periods (source_kper)")
        text = carried_periods(fp.path, fp.ftype, model.source_kper)
        out.append((fp.ftype, files.text(f"{fp.pname}.{fp.ftype.rstrip('6').lower()}",
                                          text), fp.pname))
    return out


def _gwf_nam(model: GwfModel, entries: list[tuple[str, str, str]],
             src: SimulationFiles | None) -> str:
    opts = []
    if src is not None:
        opts = [f"  {k} {' '.join(v)}".rstrip() + "\n" for k, v in src.nam_options.items()
                if k not in ("NEWTON", "LIST", "SAVE_FLOWS")]
    opts.append(f"  LIST {SUB}/{model.name}.lst\n  SAVE_FLOWS\n")
    if model.newton:
        opts.append("  NEWTON" + (" UNDER_RELAXATION" if model.under_relaxation else "") +
                    "\n")
    order = {"DIS6": 0, "IC6": 1, "NPF6": 2, "STO6": 3}
    ordered = sorted(entries, key=lambda e: order.get(e[0], 4))
    pkgs = "".join(f"  {ftype} {path} {pname}\n" for ftype, path, pname in ordered)
    return _block("OPTIONS", "".join(opts)) + _block("PACKAGES", pkgs)


def _solution_lines(model: GwfModel, src: SimulationFiles | None, files: _Files) -> str:
    """IMS lines of the solution group: the source folder's own IMS, else a new one."""
    if src is not None and src.ims:
        return "".join(f"  IMS6 {_rel(src, p)} {model.name}\n" for p in src.ims[:1])
    return f"  IMS6 {files.text('sim.ims', _ims(model))} {model.name}\n"

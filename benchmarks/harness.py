"""Run the benchmarks, each in a fresh process, and write the Markdown and JSON tables.

Every benchmark module has ``run(size) -> list[Result]``. Each one runs in a *spawned*
interpreter (nothing inherited from the harness or from the benchmarks before it: imports,
caches, heap, peak memory), with one BLAS/OpenMP thread (:data:`common.THREAD_VARS`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import multiprocessing as mp
import os
import time
import traceback
from pathlib import Path

from .common import RATIO, SIZES, Result, machine_facts, single_thread_env

log = logging.getLogger("benchmarks")

BENCHMARKS = {
    "soil": "soil_balance",
    "et0": "et0_grid",
    "groundwater": "groundwater_newton",
    "gw_backends": "groundwater_backends",
    "routing": "routing_adapter",
    "daily_run": "daily_run",
    "scenario": "scenario_season",
}
"""Names accepted by ``--only`` and the module of each, in running order."""

DEFAULT_OUT = Path(__file__).resolve().parent / "results"

PEAK_MEMORY = ("peak RSS = VmHWM of the benchmark's own fresh process, reset just before "
               "our call (includes interpreter, libraries and inputs); see benchmarks/common.py")


def _child(module: str, size: str, conn) -> None:
    try:
        rows = importlib.import_module(f"benchmarks.{module}").run(size)
        conn.send(("ok", [r.to_json() for r in rows]))
    except BaseException as exc:  # report anything, also to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


def run_isolated(name: str, size: str) -> list[dict]:
    """Rows of benchmark ``name`` at ``size``, run in a spawned process."""
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(BENCHMARKS[name], size, send), name=name)
    proc.start()
    send.close()
    try:
        status, payload = recv.recv()
    except EOFError:  # the child died without a word (killed, out of memory)
        status, payload = "error", f"process ended with exit code {proc.exitcode}"
    proc.join()
    if status == "ok":
        return payload
    log.error("%s failed: %s", name, payload)
    first = payload.splitlines()[0] if payload else "unknown error"
    return [Result(name, skipped=f"FAILED: {first}").to_json()]


# --------------------------------------------------------------------------- tables


def _num(v, fmt: str = ".3g") -> str:
    return "—" if v is None else format(v, fmt)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _row(r: dict) -> str:
    if r["skipped"]:
        cells = [r["name"], r["params"] or "—", "—", "—", "—", "—", "—", "—",
                 r["target"] or "—", "—", f"SKIPPED: {r['skipped']}"]
    else:
        rate = "—" if r["throughput"] is None else f"{r['throughput']:.3g} {r['throughput_unit']}"
        met = "—" if r["met"] is None else ("yes" if r["met"] else "no")
        cells = [r["name"], r["params"], _num(r["wall_s"]), _num(r["peak_rss_mb"], ".0f"), rate,
                 r["peer"] or "—", _num(r["peer_wall_s"]), _num(r["ratio"]), r["target"] or "—",
                 met, r["notes"]]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def markdown(report: dict) -> str:
    m = report["machine"]
    v = m["versions"]
    lines = [
        f"# Benchmarks (size `{report['size']}`)",
        "",
        f"- machine: {m['cpu_model']}, {m['cpu_count']} CPUs ({m['cpus_usable']} usable), "
        f"{m['ram_gb']} GB RAM; {m['platform']}",
        f"- load average (1/5/15 min): {m['load_avg_1_5_15']} at start, "
        f"{report['load_avg_end']} at end",
        f"- Python {m['python']}; numpy {v['numpy']}, scipy {v['scipy']}, xarray {v['xarray']}, "
        f"pyvrp {v['pyvrp']}, pyet {v['pyet']}, pyfao56 {v['pyfao56']}, pyamg {v['pyamg']}",
        f"- threads: {', '.join(f'{k}={x}' for k, x in m['threads'].items())}",
        f"- commit {m['git_commit']}, {m['date']}; total {report['total_wall_s']:.0f} s",
        f"- {report['ratio_definition']}",
        f"- {report['peak_memory']}",
        "",
        "| benchmark | size / parameters | wall [s] | peak RSS [MB] | throughput | peer "
        "| peer wall [s] | speed-up vs peer | target | met | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *(_row(r) for r in report["results"]),
        "",
    ]
    return "\n".join(lines)


def write(report: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "benchmarks.md", out / "benchmarks.json"
    md.write_text(markdown(report), encoding="utf-8")
    js.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return md, js


# --------------------------------------------------------------------------- command


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks",
                                description="Run the benchmark suite; write Markdown + JSON.")
    p.add_argument("--size", choices=SIZES, default="default",
                   help="tiny: smoke test (< 30 s); default: minutes; large: adds 480k cells")
    p.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME",
                   help=f"run only these ({', '.join(BENCHMARKS)})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="folder for benchmarks.md and benchmarks.json (default: %(default)s)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    single_thread_env()
    names = [n for n in BENCHMARKS if not args.only or n in args.only]
    report = {"size": args.size, "machine": machine_facts(), "ratio_definition": RATIO,
              "peak_memory": PEAK_MEMORY, "results": []}
    t_all = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        rows = run_isolated(name, args.size)
        report["results"].extend(rows)
        status = "skipped" if all(r["skipped"] for r in rows) else f"{len(rows)} rows"
        log.info("%-12s %7.1f s  (%s)", name, time.perf_counter() - t0, status)
    report["total_wall_s"] = time.perf_counter() - t_all
    report["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    md, js = write(report, args.out)
    log.info("wrote %s and %s", md, js)
    failed = any((r["skipped"] or "").startswith("FAILED") for r in report["results"])
    return 1 if failed else 0

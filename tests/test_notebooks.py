"""The notebooks in ``notebooks/`` (issue 9): each runs top to bottom on the demo city in
under two minutes (``notebooks`` marker), and each is committed as a clean jupytext pair.

Every ``*.ipynb`` found is a test case, so a new notebook is picked up without editing this
file. The notebooks are executed in a temporary working directory with ``TMPDIR`` pointing
into it, so whatever they write lands there and never in the repository.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: Wall time a notebook may take on the 2-core CI machine, kernel start included [s].
TIME_LIMIT_S = 120.0
#: Folders of the repository a notebook must not write into.
WATCHED = ("notebooks", "models")


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(ROOT)) for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
            and ".ipynb_checkpoints" not in p.parts}


def test_notebooks_exist():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01-daily-plan", "03-groundwater", "04-sensors"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_paired_without_outputs(path: Path):
    """The .ipynb has its percent-format .py beside it, with the same cells, and no outputs."""
    jupytext = pytest.importorskip("jupytext")
    nb = jupytext.read(path)
    formats = nb.metadata.get("jupytext", {}).get("formats", "")
    assert "py:percent" in formats, f"{path.name}: pairing not set (jupytext formats {formats!r})"
    text = path.with_suffix(".py")
    assert text.is_file(), f"{path.name}: paired {text.name} missing"
    paired = jupytext.read(text)

    def cells(notebook, kind):
        return [c.source.strip() for c in notebook.cells if c.cell_type == kind]

    assert cells(nb, "code") == cells(paired, "code"), \
        f"{path.name} and {text.name} differ in code: run 'jupytext --sync notebooks/{text.name}'"
    assert cells(nb, "markdown") == cells(paired, "markdown"), \
        f"{path.name} and {text.name} differ in text: run 'jupytext --sync notebooks/{text.name}'"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: outputs committed in cell {i}"
            assert cell.execution_count is None, f"{path.name}: execution count in cell {i}"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path: Path, tmp_path: Path):
    """Executes top to bottom, without errors, within :data:`TIME_LIMIT_S`.

    Each cell's timeout is what is left of the budget, so a slow or hanging notebook stops
    at the limit (nbclient ``CellTimeoutError``) instead of running on.
    """
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    before = set().union(*(_files(ROOT / d) for d in WATCHED))
    env = {**os.environ, "TMPDIR": str(tmp_path),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    t0 = time.perf_counter()

    def remaining(cell) -> int:
        return max(1, int(TIME_LIMIT_S - (time.perf_counter() - t0)))

    client = NotebookClient(nb, timeout_func=remaining, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    elapsed = time.perf_counter() - t0
    print(f"{path.name}: {elapsed:.1f} s")
    assert elapsed < TIME_LIMIT_S, f"{path.name} took {elapsed:.0f} s (limit {TIME_LIMIT_S:.0f} s)"
    figures = sum("image/png" in out.get("data", {}) for cell in nb.cells
                  if cell.cell_type == "code" for out in cell.outputs)
    assert figures > 0, f"{path.name} drew no figures"
    after = set().union(*(_files(ROOT / d) for d in WATCHED))
    assert after <= before, f"{path.name} wrote into the repository: {sorted(after - before)}"

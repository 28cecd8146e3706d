"""Every bad input of ``tests/robust_cases.py`` ends the daily run cleanly (issue 23):
exit code 2, one line on stderr naming the file or key, no traceback, nothing written."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from irrigation.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from robust_cases import CASES, DAY, fast_city


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    city = fast_city(tmp_path / "city")
    extra = case.edit(city, tmp_path)
    out = case.out(tmp_path) if case.out else tmp_path / "ws"
    existed = out.exists()
    args = ["-q", "run", "--city", str(city), "--out", str(out)]
    if "--date" not in extra:
        args += ["--date", DAY]
    capsys.readouterr()
    code = main([*args, *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert out.exists() == existed  # nothing created, an existing file left as it was

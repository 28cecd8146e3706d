"""Output safety (issue 23): CSV cells a spreadsheet would execute, Markdown markup."""

from __future__ import annotations

import pandas as pd

from irrigation.io.cells import neutralise, restore
from irrigation.io.watering import read_report
from irrigation.report import Section, to_html, to_markdown

EVIL = ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "ok", "Ahornweg"]


def test_formula_cells_are_neutralised_and_restored():
    df = pd.DataFrame({"site": EVIL, "litres": [-1.0, 2, 3, 4, 5, 6, 7]})
    safe = neutralise(df)
    assert list(safe["site"]) == ["'" + v for v in EVIL[:5]] + EVIL[5:]
    assert list(safe["litres"]) == list(df["litres"])  # numbers untouched, also negative
    assert restore(safe.astype({"litres": str}))["site"].tolist() == EVIL


def test_a_driver_sheet_with_a_neutralised_site_reads_back(tmp_path):
    sheet = pd.DataFrame({"date": ["2018-07-02"] * 2, "kind": ["visit", "refill"],
                          "site": ["=S1", ""], "planned_l": [100, ""],
                          "given_l": [90, ""]})
    path = tmp_path / "driver_01.csv"
    neutralise(sheet).to_csv(path, index=False)
    assert "'=S1" in path.read_text()
    report = read_report(path)
    assert report.rows["site"].tolist() == ["=S1"]


def test_markdown_report_escapes_markup_like_the_html(tmp_path):
    secs = [Section("Demo <b>", ["- site <script>alert(1)</script> is [late](javascript:x)"],
                    pd.DataFrame({"street": ["a|b", "<img src=x onerror=y>"]}))]
    md = to_markdown(secs)
    assert "<script>" not in md and "<img" not in md
    assert "[late]\\(javascript" in md  # no link
    assert "- site &lt;script&gt;" in md  # the list marker stays
    assert "a\\|b" in md  # a pipe cannot split the table cell
    assert "<script>" not in to_html(secs, tmp_path)

"""``python -m irrigation.demo OUT`` on a fresh folder: the KNMI file is found without
``--knmi``, and a missing one stops the generator before it writes anything."""

from __future__ import annotations

import pytest

from irrigation.demo import BUNDLED_KNMI, KNMI_SOURCE, knmi_source, main


def test_a_fresh_folder_takes_the_bundled_knmi_file(tmp_path):
    assert BUNDLED_KNMI.is_file()
    assert knmi_source(tmp_path / "fresh", None) == BUNDLED_KNMI
    own = tmp_path / "own"
    (own / KNMI_SOURCE).parent.mkdir(parents=True)
    (own / KNMI_SOURCE).write_text("x")
    assert knmi_source(own, None) == own / KNMI_SOURCE


def test_a_missing_knmi_file_writes_nothing(tmp_path, capsys):
    out = tmp_path / "city"
    with pytest.raises(SystemExit) as stop:
        main([str(out), "--size", "large", "--knmi", str(tmp_path / "nope.txt")])
    assert stop.value.code == 2
    assert "nope.txt" in capsys.readouterr().err
    assert not out.exists()

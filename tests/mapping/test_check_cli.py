"""`avatar-driver mapping check` and bad mapping files through the real command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


def test_check_prints_summary() -> None:
    r = run_cli(["mapping", "check", "vrchat-unified-v2"])
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "149 parameters" in out
    assert "v2/JawX" in out and "jawRight - jawLeft" in out and "binary 4 bits + Negative" in out
    assert "v2/EyeLidLeft" in out and "float" in out and "[0, 1] -> [0, 1]" in out


def test_check_file_summary(tmp_path: Path) -> None:
    p = tmp_path / "mine.toml"
    p.write_text('[[param]]\nname = "Jaw"\nsource = "jawOpen"\ntype = "int"\n')
    r = run_cli(["mapping", "check", str(p)])
    assert r.returncode == 0, r.stderr
    assert "Jaw" in r.stdout and "int" in r.stdout and "[0, 1] -> [0, 255]" in r.stdout


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        ('[[param]]\nname = "A"\nsource = "jawOpen"\ntype = "double"\n',
         ["parameter 'A'", "field 'type'", "expected 'float', 'int', 'bool' or 'binary'",
          "got 'double'"]),
        ('[[param]]\nname = "A"\nsource = "jawOpn"\n',
         ["parameter 'A'", "field 'source'", "got 'jawOpn'", "did you mean 'jawOpen'"]),
        ('[[param]]\nname = "A"\nsource = "jawOpen"\nin_range = [0.5, 0.5]\n',
         ["parameter 'A'", "in_range", "expected two different numbers"]),
        ('[[param]]\nname = "A"\nsource = "jawOpen"\ntype = "int"\nout_range = [0, 300]\n',
         ["parameter 'A'", "out_range", "within 0..255"]),
        ('[[param]\nname = "A"\n', ["not valid TOML", "line 1"]),
        ('[[param]]\nname = "A"\nsource = "jawOpen"\ngian = 2\n',
         ["parameter 'A'", "field 'gian'", "did you mean 'gain'"]),
    ],
)  # fmt: skip
def test_bad_files_exit_2_with_file_entry_field(
    tmp_path: Path, body: str, expect: list[str]
) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(body)
    run = ["run", "--source", "demo", "--fast", "--max-frames", "2", "--mapping", str(p),
           "--output", "vrchat:127.0.0.1:9", "--vrchat-listen", "off", "--quiet"]  # fmt: skip
    for args in (["mapping", "check", str(p)], run):
        r = run_cli(args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert str(p) in r.stderr
        for text in expect:
            assert text in r.stderr, (text, r.stderr)
        assert "Traceback" not in r.stderr

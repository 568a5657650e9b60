"""The layer checker: synthetic packages with known violations, then sianode itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sianode.devtools import layers

#: the synthetic package's layers: base < low < (mid_a, mid_b) < high
LAYERS = (("pkg", 1, "base"), ("pkg.low", 2, "low"), ("pkg.mid_a", 3, "mid_a"), ("pkg.mid_b", 3, "mid_b"),
          ("pkg.high", 4, "high"))


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", "low/__init__.py": "", "mid_a/__init__.py": "", "mid_b/__init__.py": "",
                       "high/__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def _check(root: Path) -> list[str]:
    return [str(v) for v in layers.check(root, layers=LAYERS)]


CLEAN = {
    "low/a.py": "import os\nfrom pkg import low\n",
    "mid_a/m.py": "from pkg.low import a\nfrom . import n\n",
    "mid_a/n.py": "import pkg.low.a\n",
    "high/h.py": "from pkg.mid_a.m import x\nfrom pkg.mid_b import y\nfrom ..low import a\n",
}


def test_a_package_whose_imports_point_down_passes(tmp_path):
    assert _check(_package(tmp_path, CLEAN)) == []


def test_upward_imports_are_found_at_module_and_function_level(tmp_path):
    root = _package(tmp_path, {**CLEAN, "low/b.py": """\
        from pkg.high import h

        def f():
            from ..mid_a.m import x
            return x
        """})
    found = _check(root)
    assert found == [
        "upward import: pkg/low/b.py:1: pkg.low.b (layer 2 low) imports pkg.high.h (layer 4 high)",
        "upward import: pkg/low/b.py:4: pkg.low.b (layer 2 low) imports pkg.mid_a.m (layer 3 mid_a) (in a function)",
    ]


def test_imports_under_type_checking_do_not_count(tmp_path):
    root = _package(tmp_path, {**CLEAN, "low/b.py": """\
        from typing import TYPE_CHECKING
        import typing

        if TYPE_CHECKING:
            from pkg.high.h import Thing
        if typing.TYPE_CHECKING:
            from pkg.low import c
        else:
            from pkg.mid_b import y
        """, "low/c.py": "from pkg.low import b\n"})
    assert _check(root) == ["upward import: pkg/low/b.py:9: pkg.low.b (layer 2 low) imports pkg.mid_b (layer 3 mid_b)"]


def test_sideways_import_between_groups_of_one_layer(tmp_path):
    root = _package(tmp_path, {**CLEAN, "mid_b/y.py": "from pkg.mid_a import m\n"})
    assert _check(root) == [
        "sideways import: pkg/mid_b/y.py:1: pkg.mid_b.y (layer 3 mid_b) imports pkg.mid_a.m (layer 3 mid_a)"]


def test_cycles_are_found_inside_a_package_and_through_functions(tmp_path):
    root = _package(tmp_path, {**CLEAN, "low/x.py": "from pkg.low.y import f\n",
                               "low/y.py": "def f():\n    from pkg.low import x\n"})
    assert _check(root) == [
        "import cycle: pkg.low.x (x.py:1) -> pkg.low.y (y.py:2) -> pkg.low.x"]


def test_cycle_through_a_package_init(tmp_path):
    root = _package(tmp_path, {**CLEAN, "mid_a/__init__.py": "from pkg.mid_a.m import x\n",
                               "mid_a/m.py": "from pkg.mid_a import helper\n"})
    (found,) = _check(root)
    assert found.startswith("import cycle: pkg.mid_a (__init__.py:1) -> pkg.mid_a.m (m.py:1) -> pkg.mid_a")


def test_a_module_without_layer_is_reported(tmp_path):
    root = _package(tmp_path, {**CLEAN, "extra.py": ""})
    assert _check(root) == ["no layer: pkg.extra is in no row of LAYERS; give it a layer"]


def test_main_prints_one_line_per_violation_and_exits_1(tmp_path, capsys):
    root = _package(tmp_path, {**CLEAN, "low/b.py": "from pkg.high import h\n"})
    assert layers.main([str(root)], layers=LAYERS) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == ["upward import: pkg/low/b.py:1: pkg.low.b (layer 2 low) imports pkg.high.h (layer 4 high)"]
    (root / "low/b.py").write_text("")
    assert layers.main([str(root)], layers=LAYERS) == 0
    assert capsys.readouterr().out.startswith("layers ok:")


def test_sianode_imports_point_down_and_form_no_cycle():
    proc = subprocess.run([sys.executable, "-m", "sianode.devtools.layers"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout

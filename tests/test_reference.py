"""docs/reference.md is generated from the code that declares the keys, and is up to date."""

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from learned_actuators.data.column_map import ColumnMap
from learned_actuators.learning.data_cfg import DataCfg
from learned_actuators.learning.trainer_cfg import TrainCfg
from learned_actuators.reference import field_docs, render_reference

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference.md"


def test_committed_reference_is_the_generated_one():
    assert REFERENCE.read_text(encoding="utf-8") == render_reference(), (
        "docs/reference.md is out of date: run python scripts/make_reference.py"
    )


def test_every_key_is_in_the_reference_with_its_default():
    text = render_reference()
    for cls, prefix in ((ColumnMap, ""), (DataCfg, "data."), (TrainCfg, "train.")):
        for f in dataclasses.fields(cls):
            if f.name != "source":
                assert f"| `{prefix}{f.name}` |" in text, f.name
    assert '| `data.group_key` | `str` | `"group"` |' in text
    assert "| `train.rollout_loss.horizon_s` | `float` | `0.1` | a value > 0 |" in text
    assert "| `decimation` | `int \\| None` | `null` | a value >= 1 |" in text  # validation overrides
    assert "| `demo_all_folds` |" in text and "| `recipe_gru_pd` |" in text  # the shipped presets
    for fmt in ("lerobot", "mcap", "ros2_bag", "csv"):
        assert f"| `{fmt}` |" in text
    assert "](docs/reference.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_a_field_without_a_docstring_is_an_error():
    @dataclasses.dataclass
    class Documented:
        a: int = 1
        """The a."""
        b: list[str] = dataclasses.field(default_factory=list)
        """The b,
        on two lines."""

    assert field_docs(Documented) == {"a": ("int", "The a."), "b": ("list[str]", "The b,\non two lines.")}

    @dataclasses.dataclass
    class Undocumented:
        a: int = 1
        """The a."""
        b: int = 2

    with pytest.raises(ValueError, match=r"fields without a docstring: \['b'\]"):
        field_docs(Undocumented)


def test_script_check_mode(tmp_path):
    stale = tmp_path / "reference.md"
    stale.write_text("old\n")
    script = ROOT / "scripts" / "make_reference.py"
    bad = subprocess.run([sys.executable, script, "--check", "--out", stale], capture_output=True, text=True)
    assert bad.returncode == 1 and "out of date" in bad.stderr
    spec = importlib.util.spec_from_file_location("make_reference", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(stale)]) == 0
    assert stale.read_text() == render_reference()

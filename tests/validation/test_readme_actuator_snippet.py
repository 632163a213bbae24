"""The README's "Build and step an actuator outside a simulator" block runs as written."""

import re
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_snippet_builds_and_steps_an_actuator_outside_a_simulator():
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- snippet: actuator-outside-sim -->\n```python\n(.*?)```", text, re.S)
    assert match, "README block 'actuator-outside-sim' not found"
    scope: dict = {}
    exec(compile(match.group(1), "README.md", "exec"), scope)
    tau = scope["tau"]
    assert tau.shape == (1, 2) and torch.isfinite(tau).all()
    assert tau[0, 0] > 0 > tau[0, 1]  # towards the targets +0.1 / -0.2 rad from rest
    assert scope["actuator"].joint_names == ["FL_hip_joint", "FL_thigh_joint"]

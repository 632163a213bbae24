"""Defaults the policy CLI adds to the stock ``isaaclab train|play`` arguments."""

import pytest

from learned_actuators.policy.cli import with_defaults

pytestmark = pytest.mark.unit


def test_defaults_add_rsl_rl_and_mirror_device_to_agent():
    assert with_defaults(["--task", "T", "--device", "cpu"]) == [
        "--rl_library",
        "rsl_rl",
        "--task",
        "T",
        "--device",
        "cpu",
        "agent.device=cpu",
    ]


def test_defaults_keep_explicit_choices():
    argv = ["--rl_library=skrl", "--device=cuda:0", "agent.device=cpu"]
    assert with_defaults(argv) == argv


def test_defaults_without_device_add_no_agent_device():
    assert with_defaults(["--task", "T"]) == ["--rl_library", "rsl_rl", "--task", "T"]

"""Go2 sanity with the shipped starter model (real simulator, CPU, offline flat GRU-PD task, no network file given).

A one-iteration PPO run through ``scripts/train_policy.py`` (subprocess) gives a checkpoint; playback in this process
(its only simulation) records torque profiles through the play/record path while a probe reads the applied efforts.
The torques must be at Go2 scale (several N·m, not a servo's fraction of one) and within the Go2's joint limits.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml

from learned_actuators.models import GO2_JOINT_LIMITS, go2_starter_path
from learned_actuators.recording import load_npz
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration

TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-Offline"
NUM_ENVS = 16
PLAY_STEPS = 40


class _ParamsLoader(yaml.SafeLoader):
    """Reads Isaac Lab's ``params/env.yaml``; its Python-tagged values become None."""


_ParamsLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def _stall(joint_name: str) -> float:
    (stall,) = [s for pattern, (s, _) in GO2_JOINT_LIMITS.items() if joint_name.endswith(pattern[2:])]
    return stall


def test_default_starter_model_drives_the_go2_at_its_scale_and_play_records_it(tmp_path):
    train = [sys.executable, str(REPO_ROOT / "scripts" / "train_policy.py"), "--task", TASK, "--device", "cpu"]
    train += ["--num_envs", str(NUM_ENVS), "--max_iterations", "1"]
    proc = subprocess.run(train, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "network's scale" not in proc.stdout + proc.stderr  # the starter fits the Go2's motors
    (run_dir,) = (tmp_path / "logs" / "rsl_rl" / "go2_flat_gru_pd").iterdir()
    params = yaml.load((run_dir / "params" / "env.yaml").read_text(), Loader=_ParamsLoader)
    assert params["scene"]["robot"]["actuators"]["base_legs"]["network_file"] == go2_starter_path()
    checkpoint = run_dir / "model_0.pt"
    assert checkpoint.is_file(), sorted(p.name for p in run_dir.iterdir())

    from learned_actuators.policy.play import play_argv

    probe: dict[str, list] = {"efforts": []}

    def on_step(env, step):
        robot = env.unwrapped.scene["robot"]
        if step == 0:
            probe["joint_names"] = list(robot.joint_names)
            probe["drive"] = type(robot.actuators["base_legs"].drive).__name__
        probe["efforts"].append(robot.actuators.applied_effort.torch.cpu().numpy().copy())

    record_dir = tmp_path / "profiles"
    argv = ["--task", TASK, "--device", "cpu", "--num_envs", str(NUM_ENVS), "--checkpoint", str(checkpoint)]
    argv += ["--num_steps", str(PLAY_STEPS), "--record_dir", str(record_dir), "--no_export"]
    paths = play_argv(argv, on_step=on_step)

    assert probe["drive"] == "DriveGRUPD"  # Isaac Lab's default native path, our drive
    efforts = np.stack(probe["efforts"])  # (frames, envs, joints)
    names = probe["joint_names"]
    stall = np.array([_stall(n) for n in names])
    peak = np.abs(efforts).max(axis=(0, 1))
    assert peak.max() > 5.0, peak  # Go2 scale: a servo-scale net stays below 0.5 N·m
    assert (peak <= stall + 1e-3).all(), (peak, stall)  # and within each joint's limit (calf 45.43 N·m)
    assert len(paths) == NUM_ENVS
    for env_id, path in enumerate(paths):
        profile = load_npz(path)
        assert list(profile.dof_names) == names
        assert profile.joint_torques.shape == (PLAY_STEPS, len(names))
        np.testing.assert_array_equal(profile.joint_torques, efforts[:, env_id])

"""CPU smoke test of the policy workflow with the GRU-PD learned actuator (real simulator, offline Go2 flat task).

Training runs through ``scripts/train_policy.py`` (Isaac Lab's ``isaaclab train`` argument and override parsing)
in a subprocess; playback runs in this process (its only simulation) with a per-step probe of the actuator.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml

from learned_actuators.recording import PROFILE_KEYS, load_npz
from tests.conftest import REPO_ROOT
from tests.policy.gru_pd_net import write_gru_pd_net

pytestmark = pytest.mark.integration

TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-Offline"
NUM_ENVS = 16
PLAY_STEPS = 50


class _ParamsLoader(yaml.SafeLoader):
    """Reads Isaac Lab's ``params/env.yaml``; its Python-tagged values (tuples, callables) become None."""


_ParamsLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def test_train_two_iterations_then_play_and_record_gru_pd_torques(tmp_path):
    net = write_gru_pd_net(tmp_path / "nets" / "go2_gru_pd.pt")
    override = f"env.scene.robot.actuators.base_legs.network_file={net}"
    train = [sys.executable, str(REPO_ROOT / "scripts" / "train_policy.py"), "--task", TASK, "--device", "cpu"]
    train += ["--num_envs", str(NUM_ENVS), "--max_iterations", "2", override]
    proc = subprocess.run(train, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (run_dir,) = (tmp_path / "logs" / "rsl_rl" / "go2_flat_gru_pd").iterdir()
    checkpoint = run_dir / "model_1.pt"  # iterations 0 and 1; the last one is always saved
    assert checkpoint.is_file(), sorted(p.name for p in run_dir.iterdir())
    # the command-line override reached the env cfg that was trained
    params = yaml.load((run_dir / "params" / "env.yaml").read_text(), Loader=_ParamsLoader)
    assert params["scene"]["robot"]["actuators"]["base_legs"]["network_file"] == str(net)
    assert params["sim"]["use_newton_actuators"] is True

    from learned_actuators.policy.play import play_argv

    probe: dict[str, list] = {"efforts": [], "targets": []}

    def on_step(env, step):
        unwrapped = env.unwrapped
        robot = unwrapped.scene["robot"]
        actuator = robot.actuators["base_legs"]
        if step == 0:
            probe["actuator"] = type(actuator).__name__
            probe["joint_names"] = list(robot.joint_names)
            probe["joint_ids"] = None
            probe["step_dt"] = unwrapped.step_dt
        # efforts the articulation applied (robot joint order)
        efforts = np.zeros((unwrapped.num_envs, len(probe["joint_names"])), dtype=np.float32)
        efforts[:] = robot.actuators.applied_effort.torch.cpu().numpy()
        probe["efforts"].append(efforts)
        probe["targets"].append(unwrapped.action_manager.get_term("joint_pos").processed_actions.cpu().numpy().copy())

    record_dir = tmp_path / "profiles"
    argv = ["--task", TASK, "--device", "cpu", "--num_envs", str(NUM_ENVS), "--checkpoint", str(checkpoint)]
    argv += ["--num_steps", str(PLAY_STEPS), "--record_dir", str(record_dir), "--no_export", override]
    argv_before = list(sys.argv)
    paths = play_argv(argv, on_step=on_step)
    assert sys.argv == argv_before  # Isaac Lab's parsing rewrites sys.argv for Hydra; play restores it

    assert probe["actuator"] == "Actuator"
    # native torques (GRU residual included) equal the Python path: tests/actuators/test_go2_native_equivalence.py
    assert [p.name for p in paths] == [f"env_{i:04d}.npz" for i in range(NUM_ENVS)]
    efforts = np.stack(probe["efforts"])  # (F, E, D)
    targets = np.stack(probe["targets"])
    num_dofs = len(probe["joint_names"])
    assert num_dofs == 12
    for env_id, path in enumerate(paths):
        with np.load(path) as npz:
            assert sorted(npz.files) == sorted((*PROFILE_KEYS, "dof_position_targets", "episode_starts"))
        profile = load_npz(path)  # checks shapes against the names, finiteness and unit quaternions
        assert profile.episode_starts is not None and profile.episode_starts[0] == 0  # the recorder marks episodes
        num_bodies = len(profile.body_names)
        assert profile.fps == pytest.approx(1.0 / probe["step_dt"])
        assert list(profile.dof_names) == probe["joint_names"]
        assert {"base", "FL_foot", "RR_foot"} <= set(profile.body_names)
        for key in ("joint_torques", "dof_positions", "dof_velocities", "dof_position_targets"):
            assert getattr(profile, key).shape == (PLAY_STEPS, num_dofs), key
        for key, size in (("body_positions", 3), ("body_rotations", 4), ("body_linear_velocities", 3)):
            assert getattr(profile, key).shape == (PLAY_STEPS, num_bodies, size), key
        assert profile.body_angular_velocities.shape == (PLAY_STEPS, num_bodies, 3)
        for key in (*PROFILE_KEYS[3:], "dof_position_targets"):
            assert np.isfinite(getattr(profile, key)).all(), key
        np.testing.assert_array_equal(profile.joint_torques, efforts[:, env_id])
        np.testing.assert_allclose(profile.dof_position_targets, targets[:, env_id], rtol=0, atol=1e-6)
    assert np.abs(efforts).max() > 0.1  # the robot is actually driven


def _as_index(joint_ids):
    if isinstance(joint_ids, slice):
        return joint_ids
    return np.asarray(joint_ids.cpu() if hasattr(joint_ids, "cpu") else joint_ids)

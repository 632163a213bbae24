"""scripts/train_torque_amp.py trains 2 iterations on the real simulator (CPU) and writes an AMP checkpoint."""

import subprocess
import sys

import pytest
import torch

from tests.amp.synthetic import write_go2_profile
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration


def test_train_torque_amp_two_iterations_writes_a_checkpoint_with_the_discriminator(tmp_path):
    refs = tmp_path / "refs"
    write_go2_profile(refs / "a.npz", starts=(0, 50))
    write_go2_profile(refs / "b.npz", seed=1, starts=(0, 30, 90))
    cmd = [
        sys.executable,
        str(REPO_ROOT / "scripts" / "train_torque_amp.py"),
        "--task",
        "LearnedActuators-Velocity-Flat-UnitreeGo2-AMP-Offline",
        "--torque_motion_files",
        str(refs),
        "--torque_weight",
        "2.0",
        "--num_envs",
        "4",
        "--max_iterations",
        "2",
        "--device",
        "cpu",
        "agent.num_steps_per_env=8",
        "agent.algorithm.discriminator_batch_size=256",
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    checkpoints = sorted((tmp_path / "logs" / "rsl_rl" / "go2_flat_amp_dc").glob("*/model_1.pt"))
    assert len(checkpoints) == 1, proc.stdout[-2000:]
    saved = torch.load(checkpoints[0], weights_only=False)
    assert {"actor_state_dict", "amp_discriminator_state_dict", "amp_optimizer_state_dict"} <= set(saved)
    weights = saved["amp_discriminator_state_dict"]["normalizer.weights"]
    assert weights.shape == (42,)  # 12 joints x (pos, vel, torque) + 6 base velocities
    assert torch.equal(weights[24:36], torch.full((12,), 2.0)) and torch.equal(weights[:24], torch.ones(24))
    assert "amp_style_reward" in proc.stdout

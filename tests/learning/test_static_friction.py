"""The joint torque a model's Coulomb friction holds the joint with: the formula, the metrics and the trainer's loss."""

import dataclasses

import numpy as np
import pytest
import torch

from learned_actuators.data.inverse_dynamics import GRAVITY
from learned_actuators.learning import PhysicsCfg
from learned_actuators.learning.baselines import PDFrictionBaseline
from learned_actuators.learning.evaluation import evaluate
from learned_actuators.learning.features import run_command, tau_phys
from learned_actuators.learning.rollout import held_by_friction
from learned_actuators.physics import static_friction
from tests.learning.conftest import make_runs

pytestmark = pytest.mark.unit

FRICTION, FRICTION_LOAD, KP = 0.02, 0.3, 2.0


def test_static_friction_sticks_within_its_bound_and_slides_at_it():
    net = torch.tensor([0.05, -0.05, 0.5, 0.0])
    qd = torch.tensor([0.0, 0.01, 0.0, 2.0])
    got = static_friction(net, qd, 0.01, 0.005, torch.tensor(0.1))
    # stuck: the friction cancels the torque and the step's momentum (0.01 · 0.01 / 0.005 = 0.02)
    assert got[0] == pytest.approx(-0.05) and got[1] == pytest.approx(0.05 - 0.02)
    assert got[2] == pytest.approx(-0.1)  # pushed past the bound: slides, friction at the bound against the push
    assert got[3] == pytest.approx(-0.1)  # moving: the bound against the motion


def _stall_log():
    """A pendulum run: 100 frames held at 0.4 rad by the PD with a logged speed of ±0.005 rad/s, then 100 moving."""
    log = make_runs(kps=(KP,), duration=1.0)[0]
    n, mgl = len(log), log.meta["mass"] * GRAVITY * log.meta["length"]
    log.q[:, 0] = 0.4
    log.qd[:, 0] = np.where(np.arange(n) % 2 == 0, 0.005, -0.005)
    log.q_target[:, 0] = 0.4 + (mgl * np.sin(0.4) + 0.03) / KP  # the PD pushes 0.03 N·m past the gravity torque
    log.qd[100:, 0] = 1.5
    return log, mgl


def _cfg():
    return PhysicsCfg(kd=0.0, friction=FRICTION, friction_load=FRICTION_LOAD, friction_velocity=0.01)


def test_the_joint_torque_holds_a_stall_and_slides_at_the_bound():
    log, mgl = _stall_log()
    command = run_command(log, _cfg())
    state = (log.q[:, 0], log.qd[:, 0], log.q_target[:, 0])
    smooth = tau_phys(*state, command[1], command[0])
    got = held_by_friction(smooth, log, command)
    inertia, still, moving = log.meta["inertia"], slice(0, 100), slice(100, None)
    # at rest the friction takes what the PD gives beyond gravity: the joint gets gravity's torque (less momentum)
    np.testing.assert_allclose(got[still], mgl * np.sin(0.4) - inertia * log.qd[still, 0] / log.dt, atol=1e-12)
    # the smoothed term flips with the logged speed's sign instead
    assert np.abs(smooth[still] - mgl * np.sin(0.4)).mean() > 0.02
    pd = KP * (log.q_target[moving, 0] - 0.4)
    np.testing.assert_allclose(got[moving], pd - (FRICTION + FRICTION_LOAD * pd), atol=1e-9)
    frictionless = run_command(log, dataclasses.replace(_cfg(), friction=0.0, friction_load=0.0))
    np.testing.assert_array_equal(held_by_friction(smooth, log, frictionless), smooth)
    no_load = dataclasses.replace(log, meta={k: v for k, v in log.meta.items() if k != "inertia"})
    np.testing.assert_array_equal(held_by_friction(smooth, no_load, command), smooth)


class _TwoTorques:
    """``predict``: the label plus 1 N·m; ``joint_torque``: the label."""

    def predict(self, log):
        return log.tau[:, 0] + 1.0

    def joint_torque(self, log):
        return log.tau[:, 0].copy()


def test_metrics_score_the_joint_torque_where_a_model_has_one():
    assert evaluate(_TwoTorques(), make_runs(), with_rollout=False)["rmse"] == pytest.approx(0.0, abs=1e-12)


def test_the_pd_baselines_coulomb_term_holds_the_stall():
    log, mgl = _stall_log()
    baseline = PDFrictionBaseline({"all": np.array([1.0, 0.0, 0.05, 0.0, 0.0])}, per_gain=False)
    log.meta["kp"] = KP
    got = baseline.joint_torque(log)
    want = mgl * np.sin(0.4) - log.meta["inertia"] * log.qd[:100, 0] / log.dt
    np.testing.assert_allclose(got[:100], want, atol=1e-12)
    np.testing.assert_allclose(got[100:], baseline.predict(log)[100:], atol=1e-12)  # moving: the Coulomb term

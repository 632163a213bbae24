"""Physics identified by trajectory simulation: recovery of known parameters, identifiability, training runs only."""

import dataclasses

import numpy as np
import pytest

from learned_actuators.data.joint_log import JointLog
from learned_actuators.data.synthetic import chirp_command
from learned_actuators.errors import UserInputError
from learned_actuators.learning import PhysicsCfg, rollout
from learned_actuators.learning.features import tau_phys
from learned_actuators.learning.sysid import TrajectoryPhysics, priors_of
from learned_actuators.learning.sysid_fit import PRIOR_FREE, fit_trajectory

pytestmark = pytest.mark.unit

PRIOR = PhysicsCfg(kp_scale=0.01, kd=0.02, friction=0.01, stall_torque=None, no_load_speed=None)
"""Logs store a raw gain (100, 200, 400) that is 0.01 N·m/rad per unit (1, 2, 4 N·m/rad), as servo firmware does."""
TRUE = {"gain": 1.3, "kd": 0.05, "coulomb": 0.03, "armature": 0.004, "delay": 0.012}
"""Known plant: 30 % more gain than the prior, damping, stick-slip Coulomb friction, 4e-3 kg·m² of armature on a
0.01 kg·m² load and a 12 ms input delay; no torque-speed curve within reach."""
TOL = {"gain": 0.03, "kd": 0.1, "coulomb": 0.25, "armature": 0.15, "delay": 0.1}
"""Relative tolerances of the recovery (noise-free data from the model's own integrator, 80 CMA-ES generations)."""
FREE = ["gain", "kd", "coulomb", "armature", "delay", "stall_torque", "no_load_speed"]


def _log(name: str, kp_raw: float, command: np.ndarray, dt: float = 0.005) -> JointLog:
    t = np.arange(len(command)) * dt
    meta = {"kp": kp_raw, "inertia": 0.01, "mass": 0.3, "length": 0.1}
    zeros = np.zeros((len(t), 1))
    return JointLog(
        name=name,
        source=f"synthetic/{name}",
        t=t,
        q=zeros.copy(),
        q_target=command[:, None],
        qd=zeros.copy(),
        meta=meta,
    )


def simulate(truth: dict[str, float], kps=(100.0, 200.0, 400.0), duration=3.0, amplitude=0.6, seed=0):
    """Logs whose angle is the known plant's response to a chirp + steps command (from rest at 0)."""
    n = round(duration / 0.005)
    logs = [
        _log(f"k{k:g}", k, chirp_command(np.arange(n) * 0.005, amplitude, seed=seed + i)) for i, k in enumerate(kps)
    ]
    plant = TrajectoryPhysics({**priors_of(PRIOR), **truth}, PRIOR)
    for log, q in zip(logs, rollout(plant, logs).q_sim, strict=True):
        log.q[:, 0] = q
        log.qd[1:, 0] = np.diff(q) / log.dt  # the semi-implicit Euler velocity of each step
    return logs


@pytest.fixture(scope="module")
def fitted():
    return fit_trajectory(simulate(TRUE, duration=2.0), PRIOR, free=FREE, generations=80, tol=1e-9)


def test_fit_recovers_known_plant_parameters(fitted):
    for name, value in TRUE.items():
        assert fitted.values[name] == pytest.approx(value, rel=TOL[name]), name
        assert not fitted.report["params"][name]["fixed"], name
        assert fitted.report["params"][name]["rel_se"] < 0.5, name
    assert fitted.report["rmse"] < 5e-3


def test_unreached_torque_speed_curve_is_flagged_and_fixed(fitted):
    """The command never saturates the motor: the curve has no effect, so it is fixed at its prior and reported."""
    for name in ("stall_torque", "no_load_speed"):
        report = fitted.report["params"][name]
        assert "not determined by the data" in report["fixed"], name
        assert fitted.values[name] == priors_of(PRIOR)[name]
    cfg = fitted.physics_cfg()
    assert cfg.stall_torque is None and cfg.no_load_speed is None  # the prior had no curve: none is invented
    assert cfg.kp_scale == pytest.approx(0.01 * TRUE["gain"], rel=TOL["gain"])
    assert cfg.kd == pytest.approx(TRUE["kd"], rel=TOL["kd"])
    assert cfg.friction == pytest.approx(TRUE["coulomb"], rel=TOL["coulomb"])
    assert set(cfg.identified["fixed"]) >= {"stall_torque", "no_load_speed"}
    assert cfg.identified["values"]["delay"] == pytest.approx(TRUE["delay"], rel=TOL["delay"])


def test_fitted_model_beats_the_prior_in_rollout(fitted):
    """On runs not used in the fit (other command, other gain) the identified model tracks, the prior does not."""
    fresh = simulate(TRUE, kps=(300.0,), seed=7)
    prior = TrajectoryPhysics(priors_of(PRIOR), PRIOR)
    assert rollout(fitted, fresh).mean_rmse < 0.01
    assert rollout(prior, fresh).mean_rmse > 5 * rollout(fitted, fresh).mean_rmse


def test_bad_input_is_named():
    logs = simulate(TRUE, kps=(100.0,), duration=0.5)
    with pytest.raises(UserInputError, match="unknown parameters"):
        fit_trajectory(logs, PRIOR, free=["gain", "stiction"])
    del logs[0].meta["inertia"]
    with pytest.raises(UserInputError, match="inertia"):
        fit_trajectory(logs, PRIOR)
    with pytest.raises(UserInputError, match="no training runs"):
        fit_trajectory([], PRIOR)


def test_same_data_same_fit_and_prior_gain_convention():
    """An absolute-gain prior (``kp``) is scaled, not replaced by a kp_scale."""
    logs = simulate(TRUE, kps=(100.0,), duration=1.0)
    for log in logs:
        log.meta["kp"] = 1.0  # absolute gain given by the cfg instead
    prior = dataclasses.replace(PRIOR, kp=1.0)
    model = fit_trajectory(logs, prior, free=["gain", "kd"], generations=10)
    assert model.physics_cfg().kp == pytest.approx(model.values["gain"])
    assert model.physics_cfg().kp_scale == PRIOR.kp_scale


def test_stick_slip_friction_holds_and_load_dependent_bound_grows_with_motor_torque():
    """At rest, a net torque under the friction bound leaves the joint at rest; above it, the excess accelerates it.

    The bound is ``coulomb + coulomb_load · |tau_motor|``: the same position error is held with load-dependent
    friction and moves the joint without it.
    """
    import torch

    log = simulate(TRUE, kps=(100.0,), duration=0.1)[0]
    values = {**priors_of(PRIOR), "kd": 0.0, "coulomb": 0.01, "coulomb_load": 0.0}
    zero = torch.zeros(1, dtype=torch.float64)
    target = torch.full((1,), 0.02, dtype=torch.float64)  # 1 N·m/rad × 0.02 rad = 0.02 N·m of motor torque
    inertia = 0.01
    for coulomb_load, moves in ((0.0, True), (0.6, False)):
        stepper = TrajectoryPhysics({**values, "coulomb_load": coulomb_load}, PRIOR).stepper_for([log])
        tau = stepper.effective(zero, zero, target)  # at q = 0 gravity is zero: the rollout's qd' = tau / J
        qd_next = float(log.dt * tau[0] / inertia)
        assert (abs(qd_next) > 1e-6) is moves, coulomb_load
        if moves:  # slip: motor torque less the friction bound
            assert float(tau[0]) == pytest.approx(0.02 - 0.01, rel=1e-6)


SMOOTH_PRIOR = dataclasses.replace(PRIOR, friction_velocity=0.02)
SMOOTH_TRUE = {"gain": 1.2, "kd": 0.04, "coulomb": 0.005, "coulomb_load": 0.4}
"""A geared servo in the actuator's own form: smoothed friction whose bound is 40 % of the motor torque."""


def _smooth_plant_logs(seed=0):
    n = round(2.0 / 0.005)
    logs = [
        _log(f"k{k:g}", k, chirp_command(np.arange(n) * 0.005, 0.6, seed=seed + i)) for i, k in enumerate((100, 300))
    ]
    plant = TrajectoryPhysics({**priors_of(SMOOTH_PRIOR), **SMOOTH_TRUE}, SMOOTH_PRIOR, stick_slip=False)
    for log, q in zip(logs, rollout(plant, logs).q_sim, strict=True):
        log.q[:, 0] = q
        log.qd[1:, 0] = np.diff(q) / log.dt
    return logs


def test_smooth_friction_fit_recovers_the_load_dependent_friction_and_exports_it_to_the_actuator_physics():
    """``stick_slip=False`` (the GRU-PD prior's fit): the load-dependent friction is identified and carried into the
    :class:`PhysicsCfg` (``friction_load``), whose ``tau_phys`` is the fitted model's motor torque exactly."""
    import torch

    logs = _smooth_plant_logs()
    fitted = fit_trajectory(logs, SMOOTH_PRIOR, free=PRIOR_FREE, generations=60, tol=1e-9, stick_slip=False)
    assert fitted.values["coulomb_load"] == pytest.approx(0.4, rel=0.1)
    assert fitted.values["gain"] == pytest.approx(1.2, rel=0.05)
    assert fitted.report["rmse"] < 5e-3
    cfg = fitted.physics_cfg()
    assert cfg.friction_load == pytest.approx(fitted.values["coulomb_load"])
    assert "coulomb_load" not in cfg.identified["not_in_physics_params"]
    log = logs[1]
    state = [torch.as_tensor(a[:, 0], dtype=torch.float64) for a in (log.q, log.qd, log.q_target)]
    kp = torch.full_like(state[0], log.meta["kp"] * cfg.kp_scale)
    actuator = tau_phys(*state, kp, cfg.at_gain(1.0))
    stepper = fitted.stepper_for([log] * len(state[0]))
    torch.testing.assert_close(stepper.motor(*state), actuator)
    stick_slip = TrajectoryPhysics(dict(fitted.values), SMOOTH_PRIOR)  # the baseline's form drops it from the cfg
    assert stick_slip.physics_cfg().friction_load == 0.0


def test_fit_params_keep_the_cfg_values_of_the_parameters_they_leave_out():
    """``physics.fit_params`` reaches the trajectory fit of the GRU-PD prior: a datasheet's torque-speed curve and a
    given load-dependent friction stay as set (reported as not fitted) while the gain is fitted; names are checked."""
    from learned_actuators.learning.baselines import fit_physics
    from learned_actuators.learning.cfg_checks import check_values
    from learned_actuators.learning.sysid_fit import fit_trajectory_prior, prior_free

    logs = _smooth_plant_logs()  # the plant's curve is out of reach: a curve at 5 N·m and 100 rad/s changes little
    cfg = dataclasses.replace(
        SMOOTH_PRIOR, stall_torque=5.0, no_load_speed=100.0, friction_load=0.4, fit="trajectory", fit_generations=30
    )
    kept = dataclasses.replace(cfg, fit_params=["kp_scale", "kd", "friction"])
    fitted = fit_trajectory_prior(logs, kept)
    for name, value in {"stall_torque": 5.0, "no_load_speed": 100.0, "coulomb_load": 0.4}.items():
        assert fitted.values[name] == value
        assert fitted.report["params"][name]["fixed"] == "not fitted (prior)"
    assert fitted.values["gain"] == pytest.approx(1.2, rel=0.05)
    physics = fit_physics(logs, kept)
    assert (physics.stall_torque, physics.no_load_speed, physics.friction_load) == (5.0, 100.0, 0.4)
    assert physics.kp_scale == pytest.approx(1.2 * cfg.kp_scale, rel=0.05)
    other = dataclasses.replace(cfg, friction_load=0.1, fit_params=["kp_scale", "kd", "friction", "friction_load"])
    free = fit_trajectory_prior(logs, other)
    assert free.values["coulomb_load"] == pytest.approx(0.4, rel=0.1)  # fitted, from the cfg's 0.1
    assert free.values["stall_torque"] == 5.0
    with pytest.raises(UserInputError, match=r"fit_params has unknown names \['stall'\]"):  # a cfg built in code too
        prior_free(dataclasses.replace(cfg, fit_params=["stall"]))
    check_values(PhysicsCfg, {"fit_params": ["friction_load", "stall_torque"]}, "train.physics")
    with pytest.raises(UserInputError, match="fit_params"):
        check_values(PhysicsCfg, {"fit_params": ["stall"]}, "train.physics")


def test_the_cfg_bounds_the_cma_es_generations_of_the_pipeline_fits():
    """``physics.fit_generations`` reaches the fit (the main job's quick check sets 6); a run's cfg refuses 0."""
    from learned_actuators.learning.cfg_checks import check_values
    from learned_actuators.learning.sysid_fit import fit_trajectory_model

    logs = simulate(TRUE, kps=(100.0,), duration=0.5)
    short = fit_trajectory_model(logs, dataclasses.replace(PRIOR, fit_generations=2), free=("gain", "kd"))
    assert short.report["generations"] and short.report["generations"][0] <= 2
    longer = fit_trajectory_model(logs, dataclasses.replace(PRIOR, fit_generations=12), free=("gain", "kd"))
    assert longer.report["generations"][0] > 2  # the cache keys on the cfg: not the 2-generation fit again
    with pytest.raises(UserInputError, match="fit_generations=0"):
        check_values(PhysicsCfg, {"fit_generations": 0}, "train.physics")

"""DriveGRUPD honours the load-dependent Coulomb friction (``physics.friction_load``) on both backends.

The friction bound is ``friction + friction_load * |saturated PD torque|`` (:func:`learned_actuators.physics.
physical_torque`): the Warp kernels (run on Warp's CPU device) and the CPU torch backend give the same efforts and
``tau_phys`` for a file with ``friction_load > 0``, ``tau_phys`` is the torch formula's, the net (which reads
``tau_phys`` as a feature) sees it, and the efforts differ from those of the same file with ``friction_load = 0``.
"""

import numpy as np
import pytest
import torch
import warp as wp

from learned_actuators import physics
from learned_actuators.network_file import NetworkFileError
from learned_actuators.newton_drives import DriveGRUPD
from tests.newton_drives.helpers import PHYSICS, DriveRunner, GRUNet, gru_file, torch_actuator, torch_step, trajectory

pytestmark = pytest.mark.unit

ENVS, JOINTS, STEPS = 4, 3, 200
TOLERANCE = 1e-4  # N·m
FEATURES = ["q", "q_target", "qd", "tau_phys"]  # the net reads tau_phys: the net kernel's prior is checked too
LOADED = {**PHYSICS, "friction": 0.1, "friction_velocity": 0.5, "friction_load": 0.3}


def _file(tmp_path, name, mode="residual", **physics_update):
    torch.manual_seed(5)
    net = GRUNet(len(FEATURES), 5, 2)
    return gru_file(tmp_path, name, net=net, features=FEATURES, mode=mode, physics={**LOADED, **physics_update})


def _run(path, backend, steps=STEPS, **kwargs):
    """Efforts and ``tau_phys`` (steps, envs, joints) of the drive on ``backend`` along the test trajectory."""
    runner = DriveRunner(path, ENVS, JOINTS, compute_backend=backend, **kwargs)
    assert runner.drive.backend == backend
    q, qd, qt = trajectory(steps, ENVS, JOINTS)
    efforts, taus = [], []
    for s in range(steps):
        efforts.append(runner.step(q[s], qd[s], qt[s]))
        taus.append(runner.drive.tau_phys.numpy().reshape(ENVS, JOINTS).copy())
    return np.stack(efforts), np.stack(taus)


def _expected_tau_phys(friction_load):
    """The torch formula on the test trajectory with the file's physics (PD curve on: the file has it)."""
    q, qd, qt = (torch.from_numpy(x) for x in trajectory(STEPS, ENVS, JOINTS))
    p = LOADED
    curve = (p["stall_torque"], p["no_load_speed"])
    args = (p["kp"], p["kd"], p["k_spring"], p["theta0"], *curve, p["friction"], p["friction_velocity"])
    return physics.physical_torque(q, qd, qt, *args, friction_load=friction_load).numpy()


@pytest.mark.parametrize("mode", ["residual", "direct"])
def test_friction_load_gives_the_same_effort_on_the_warp_kernels_and_the_torch_backend(tmp_path, mode):
    loaded = _file(tmp_path, "loaded.pt", mode=mode)
    unloaded = _file(tmp_path, "unloaded.pt", mode=mode, friction_load=0.0)
    warp_effort, warp_tau = _run(loaded, "warp")
    torch_effort, torch_tau = _run(loaded, "torch")
    np.testing.assert_allclose(warp_effort, torch_effort, atol=TOLERANCE)
    np.testing.assert_allclose(warp_tau, torch_tau, atol=TOLERANCE)
    np.testing.assert_allclose(warp_tau, _expected_tau_phys(LOADED["friction_load"]), atol=TOLERANCE)
    for backend, effort, tau in (("warp", warp_effort, warp_tau), ("torch", torch_effort, torch_tau)):
        plain_effort, plain_tau = _run(unloaded, backend)
        np.testing.assert_allclose(plain_tau, _expected_tau_phys(0.0), atol=TOLERANCE)
        assert np.abs(tau - plain_tau).max() > 0.5, backend  # the load-dependent bound acts on tau_phys
        assert np.abs(effort - plain_effort).max() > 0.1, backend  # and on the effort (direct: through the net)


def test_a_per_slot_friction_load_overrides_the_file(tmp_path):
    """The ``friction_load`` argument (USD ``newton:frictionLoad``) wins over the file's, slot by slot."""
    n = ENVS * JOINTS
    loads = np.where(np.arange(n) % 2 == 0, 0.0, 0.6).astype(np.float32)
    loaded = _file(tmp_path, "loaded.pt")
    unloaded = _file(tmp_path, "unloaded.pt", friction_load=0.0)
    runs = {}
    for backend in ("warp", "torch"):
        runs[backend] = _run(unloaded, backend, friction_load=wp.array(loads))
    np.testing.assert_allclose(runs["warp"][0], runs["torch"][0], atol=TOLERANCE)
    np.testing.assert_allclose(runs["warp"][1], runs["torch"][1], atol=TOLERANCE)
    expected = np.where(loads.reshape(ENVS, JOINTS) == 0.0, _expected_tau_phys(0.0), _expected_tau_phys(0.6))
    np.testing.assert_allclose(runs["warp"][1], expected, atol=TOLERANCE)
    overridden, _ = _run(loaded, "warp", friction_load=wp.array(np.zeros(n, np.float32)))
    plain, _ = _run(unloaded, "warp")
    np.testing.assert_allclose(overridden, plain, atol=TOLERANCE)
    args = DriveGRUPD.resolve_arguments({"network_file": loaded})
    assert args["friction_load"] == pytest.approx(0.3)
    assert DriveGRUPD.resolve_arguments({"network_file": loaded, "friction_load": 0.1})["friction_load"] == 0.1


@pytest.mark.parametrize("backend", ["warp", "torch"])
def test_the_drive_matches_the_python_actuator_with_friction_load(tmp_path, backend):
    """The Python-path actuator reads the file's ``friction_load`` too: the same efforts as the drive."""
    path = _file(tmp_path, "loaded.pt")
    reference = torch_actuator(path, ENVS, JOINTS)
    effort, _ = _run(path, backend)
    q, qd, qt = trajectory(STEPS, ENVS, JOINTS)
    expected = np.stack([torch_step(reference, q[s], qd[s], qt[s]) for s in range(STEPS)])
    np.testing.assert_allclose(effort, expected, atol=TOLERANCE)


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf")])
def test_a_bad_friction_load_is_rejected_naming_the_file_and_field(tmp_path, value):
    path = _file(tmp_path, "bad.pt", friction_load=value)
    with pytest.raises(NetworkFileError, match=r"bad\.pt.*'physics\.friction_load' must be non-negative and finite"):
        DriveRunner(path, ENVS, JOINTS, compute_backend="warp")
    with pytest.raises(NetworkFileError, match=r"bad\.pt.*physics\.friction_load.*non-negative and finite"):
        DriveGRUPD.resolve_arguments({"network_file": path})
    good = _file(tmp_path, "good.pt")
    loads = wp.array(np.full(ENVS * JOINTS, value, np.float32))
    with pytest.raises(NetworkFileError, match=r"good\.pt.*argument 'friction_load' must be non-negative and finite"):
        DriveRunner(good, ENVS, JOINTS, compute_backend="torch", friction_load=loads)
    with pytest.raises(NetworkFileError, match=r"good\.pt.*newton:frictionLoad must be non-negative and finite"):
        DriveGRUPD.resolve_arguments({"network_file": good, "friction_load": value})


def test_friction_load_needs_a_positive_friction_velocity(tmp_path):
    """As for the constant friction: ``physics.friction_velocity`` is checked once a slot has a Coulomb term."""
    path = _file(tmp_path, "zero_velocity.pt", friction=0.0, friction_velocity=0.0)
    with pytest.raises(NetworkFileError, match=r"zero_velocity\.pt.*'physics\.friction_velocity' must be positive"):
        DriveRunner(path, ENVS, JOINTS, compute_backend="warp")
    no_friction = _file(tmp_path, "no_friction.pt", friction=0.0, friction_load=0.0, friction_velocity=0.0)
    DriveRunner(no_friction, ENVS, JOINTS, compute_backend="warp")  # no Coulomb term: the velocity is unused

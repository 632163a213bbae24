"""DriveGRUPD state: non-finite guard, masked reset, rate hold, and correctness under a replayed double buffer."""

import numpy as np
import pytest
import warp as wp

from learned_actuators.network_file import NetworkFileError
from learned_actuators.newton_drives import DriveGRUPD
from tests.newton_drives.helpers import DriveRunner, gru_file, pole_gru, torch_actuator, torch_step, trajectory

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("drive_backend")]

ENVS, JOINTS = 3, 2


def _run(runner, steps, seed=0):
    q, qd, qt = trajectory(steps, runner.num_envs, runner.num_joints, seed=seed)
    return [runner.step(q[s], qd[s], qt[s]) for s in range(steps)]


def test_drive_is_stateful_and_graphable(tmp_path):
    drive = DriveRunner(gru_file(tmp_path), ENVS, JOINTS).drive
    assert drive.is_stateful() and drive.is_graphable()


def test_nonfinite_inputs_give_zero_effort_leave_the_state_untouched_and_are_counted(tmp_path):
    runner = DriveRunner(gru_file(tmp_path, dt=0.005), ENVS, JOINTS)
    _run(runner, 5)
    hidden, held = runner.hidden_per_env().copy(), runner.state.held.numpy().copy()
    q, qd, qt = (np.full((ENVS, JOINTS), 0.2, np.float32) for _ in range(3))
    q[0, 1] = np.nan
    qd[2, 0] = np.inf
    qt[1, 1] = -np.inf
    effort = runner.step(q, qd, qt)
    bad = [(0, 1), (2, 0), (1, 1)]
    for env, joint in bad:
        assert effort[env, joint] == 0.0
        np.testing.assert_array_equal(runner.hidden_per_env()[:, env, joint], hidden[:, env, joint])
        assert runner.state.held.numpy().reshape(ENVS, JOINTS)[env, joint] == held.reshape(ENVS, JOINTS)[env, joint]
    assert np.isfinite(effort).all()
    good = np.ones((ENVS, JOINTS), bool)
    for env, joint in bad:
        good[env, joint] = False
    assert (np.abs(runner.hidden_per_env() - hidden).max(axis=(0, 3))[good] > 0).all()  # the others stepped
    counts = runner.drive.nonfinite_input_count.numpy().reshape(ENVS, JOINTS)
    assert counts.sum() == 3 and all(counts[e, j] == 1 for e, j in bad)
    assert runner.drive.num_nonfinite_inputs == 3 and runner.drive.num_nonfinite_outputs == 0


@pytest.mark.parametrize("mode", ["residual", "direct"])
def test_nonfinite_net_output_falls_back_to_physics_like_the_torch_actuator(tmp_path, mode):
    path = gru_file(
        tmp_path,
        net=pole_gru(),
        mode=mode,
        dt=0.01,
        input_mean=[0.0] * 3,
        input_std=[1.0] * 3,
        output_std=1.0,
        output_mean=0.0,
    )
    reference = torch_actuator(path, 2, 2)
    ours = DriveRunner(path, 2, 2)
    q = np.array([[0.0, 1.0], [0.0, 0.0]], np.float32)  # env 0 joint 1: infinite net output
    qt = np.array([[0.5, 1.2], [0.1, -0.2]], np.float32)
    qd = np.array([[0.5, -0.5], [1.0, 0.0]], np.float32)
    for _ in range(4):  # net step, held step, net step, held step
        expected = torch_step(reference, q, qd, qt)
        got = ours.step(q, qd, qt)
        np.testing.assert_allclose(got, expected, atol=1e-5)
        assert np.isfinite(got).all()
        np.testing.assert_allclose(ours.hidden_per_env(), reference.hidden_state_per_env.numpy(), atol=1e-5)
    assert got[0, 1] == pytest.approx(ours.drive.tau_phys.numpy()[1])  # physics fallback, within the limits
    assert got[0, 0] != pytest.approx(ours.drive.tau_phys.numpy()[0])  # the others keep the net's output
    assert ours.hidden_per_env()[:, 0, 1].sum() == 0
    assert ours.drive.nonfinite_output_count.numpy().tolist() == [0, 2, 0, 0]  # two net steps
    assert reference.num_nonfinite_outputs == ours.drive.num_nonfinite_outputs == 2


def test_masked_reset_zeroes_exactly_the_masked_envs_and_keeps_the_rate_phase(tmp_path):
    runner = DriveRunner(gru_file(tmp_path, mode="direct"), ENVS, JOINTS)  # 4 physics steps per net step
    _run(runner, 6)
    hidden, held = runner.hidden_per_env().copy(), runner.state.held.numpy().reshape(ENVS, JOINTS).copy()
    phase = runner.state.phase.numpy().copy()
    assert np.abs(hidden).sum(axis=(0, 2, 3)).min() > 0 and np.abs(held).min() > 0
    runner.reset([1])
    after = runner.hidden_per_env()
    assert np.abs(after[:, 1]).sum() == 0 and np.abs(runner.state.held.numpy().reshape(ENVS, JOINTS)[1]).sum() == 0
    np.testing.assert_array_equal(after[:, [0, 2]], hidden[:, [0, 2]])
    np.testing.assert_array_equal(runner.state.held.numpy().reshape(ENVS, JOINTS)[[0, 2]], held[[0, 2]])
    np.testing.assert_array_equal(runner.state.phase.numpy(), phase)  # a physics clock, never reset
    # direct mode, held steps after a mid-net-step reset: zero torque for env 1 until its next net step
    effort = runner.step(*(np.full((ENVS, JOINTS), 0.1, np.float32) for _ in range(3)))
    assert (effort[1] == 0).all() and (effort[[0, 2]] != 0).all()
    runner.state.reset(None)
    assert np.abs(runner.hidden_per_env()).sum() == 0 and np.abs(runner.state.held.numpy()).sum() == 0


def test_rate_hold_runs_the_net_every_k_calls(tmp_path):
    runner = DriveRunner(gru_file(tmp_path, mode="direct", dt=0.015), ENVS, JOINTS)  # k = 3
    q, qd, qt = trajectory(7, ENVS, JOINTS)
    held = []
    for s in range(7):
        runner.step(q[s], qd[s], qt[s])
        held.append(runner.state.held.numpy().copy())
    assert runner.drive.steps_per_network_step == 3
    for s in (1, 2, 4, 5):
        np.testing.assert_array_equal(held[s], held[s - 1])
    for s in (3, 6):
        assert np.abs(held[s] - held[s - 1]).min() > 0


def test_a_net_dt_that_is_not_a_multiple_of_the_physics_dt_is_rejected(tmp_path):
    runner = DriveRunner(gru_file(tmp_path, dt=0.012), ENVS, JOINTS)
    with pytest.raises(NetworkFileError, match="not a whole multiple"):
        runner.step(*(np.zeros((ENVS, JOINTS), np.float32) for _ in range(3)))
    with pytest.raises(NetworkFileError, match="not a whole multiple"):
        DriveGRUPD(gru_file(tmp_path, "b.pt", dt=0.012), physics_dt=0.005)


def test_files_the_drive_cannot_run_are_rejected(tmp_path):
    from tests.actuators.helpers import LSTMNet, save

    lstm = save(tmp_path, "lstm.pt", LSTMNet(), model_type="lstm", dt=0.005)
    with pytest.raises(NetworkFileError, match="gru_pd"):
        DriveGRUPD(lstm)
    with pytest.raises(ValueError, match="non-empty 'network_file'"):
        DriveGRUPD.resolve_arguments({})


def test_resolve_arguments_fills_unset_parameters_from_the_file(tmp_path):
    path = gru_file(tmp_path, physics={"kp": 20.0, "kd": 0.5, "stall_torque": 10.0, "no_load_speed": 20.0})
    args = DriveGRUPD.resolve_arguments({"network_file": path, "kd": 0.7, "max_motor_effort": 8.0})
    assert args["kp"] == 20.0 and args["kd"] == 0.7 and args["friction"] == 0.0
    assert args["pd_stall_torque"] == args["saturation_effort"] == 10.0
    assert args["pd_no_load_speed"] == args["velocity_limit"] == 20.0
    assert args["max_motor_effort"] == 8.0 and args["torque_speed_curve"] == "asymmetric"
    no_curve = gru_file(tmp_path, "plain.pt", physics={"kp": 20.0, "kd": 0.5})
    args = DriveGRUPD.resolve_arguments({"network_file": no_curve, "saturation_effort": 5.0})
    assert args["pd_stall_torque"] == 5.0 and args["velocity_limit"] == float("inf")


def _newton_actuator(path, n):
    from newton.actuators import Actuator

    drive = DriveGRUPD(path)
    indices = wp.array(np.arange(n, dtype=np.uint32))
    return Actuator(indices=indices, drive=drive)


class _Sim:
    """Minimal Newton sim state/control holding the joint arrays an Actuator reads and writes."""

    def __init__(self, n):
        self.joint_q = wp.zeros(n, dtype=wp.float32)
        self.joint_qd = wp.zeros(n, dtype=wp.float32)
        self.joint_target_q = wp.zeros(n, dtype=wp.float32)
        self.joint_target_qd = wp.zeros(n, dtype=wp.float32)
        self.joint_act = None
        self.joint_f = wp.zeros(n, dtype=wp.float32)

    def load(self, q, qd, qt):
        self.joint_q.assign(q.reshape(-1))
        self.joint_qd.assign(qd.reshape(-1))
        self.joint_target_q.assign(qt.reshape(-1))


@pytest.mark.parametrize("steps_per_graph", [1, 3, 4, 5])
@pytest.mark.parametrize("mirror", [True, False])
def test_replayed_double_buffer_of_any_length_matches_eager_stepping(tmp_path, steps_per_graph, mirror, monkeypatch):
    """A CUDA graph replays a recorded call sequence with the buffers it was recorded with (newton issue #4098).

    Emulated on the CPU: the sequence ``step(a, b), step(b, a), ...`` of one capture is recorded once and replayed
    with the same state objects; the host swaps inside one capture are baked in. With ``update_state`` mirroring
    the advanced state into the other buffer every length matches eager stepping; without it (``mirror=False``,
    in-place updates only) every sequence that alternates the buffers reads a stale state, which this test detects.
    """
    path = gru_file(tmp_path, dt=0.01)  # k = 2
    n, replays = ENVS * JOINTS, 6
    q, qd, qt = trajectory(steps_per_graph * replays, ENVS, JOINTS)
    eager_act, sim = _newton_actuator(path, n), _Sim(n)
    state_0, state_1 = eager_act.state(), eager_act.state()
    expected = []
    for s in range(steps_per_graph * replays):
        sim.load(q[s], qd[s], qt[s])
        sim.joint_f.zero_()
        eager_act.step(sim, sim, state_0, state_1, dt=0.005)
        state_0, state_1 = state_1, state_0
        expected.append(sim.joint_f.numpy().copy())

    if not mirror:
        monkeypatch.setattr(DriveGRUPD, "update_state", lambda self, current, nxt: None)
    graph_act, gsim = _newton_actuator(path, n), _Sim(n)
    a, b = graph_act.state(), graph_act.state()
    recorded = []  # the captured region: fixed objects, host swaps resolved at capture time
    current, following = a, b
    for _ in range(steps_per_graph):
        recorded.append((current, following))
        current, following = following, current
    got = []
    for r in range(replays):
        for i, (cur, nxt) in enumerate(recorded):
            s = r * steps_per_graph + i
            gsim.load(q[s], qd[s], qt[s])
            gsim.joint_f.zero_()
            graph_act.step(gsim, gsim, cur, nxt, dt=0.005)
            got.append(gsim.joint_f.numpy().copy())
    error = max(float(np.abs(g - e).max()) for g, e in zip(got, expected, strict=True))
    if mirror or steps_per_graph == 1:
        assert error <= 1e-6, error
    else:
        assert error > 1e-3  # the harness sees a stale buffer


def test_the_backend_is_torch_on_cpu_unless_forced_and_its_state_maps_onto_the_warp_layout(tmp_path, monkeypatch):
    from learned_actuators.newton_drives import BACKEND_ENV

    monkeypatch.delenv(BACKEND_ENV, raising=False)
    path = gru_file(tmp_path)
    auto = DriveRunner(path, ENVS, JOINTS)
    assert auto.drive.backend == "torch" and auto.state.storage is not None
    assert DriveRunner(path, ENVS, JOINTS, compute_backend="warp").drive.backend == "warp"
    with pytest.raises(ValueError, match="compute_backend"):
        DriveGRUPD(path, compute_backend="cuda")
    _run(auto, 6)
    layers, _, size = auto.state.hidden.shape
    storage = auto.state.storage.numpy()
    features = storage.shape[0] - layers * (size + 1) - 1
    for layer in range(layers):  # hidden[l, i, j] == storage[F + 1 + l (H + 1) + j, i]
        rows = storage[features + 1 + layer * (size + 1) : features + 1 + layer * (size + 1) + size]
        np.testing.assert_array_equal(auto.state.hidden.numpy()[layer], rows.T)
    assert np.abs(auto.hidden_per_env()).sum() > 0

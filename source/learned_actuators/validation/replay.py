"""Replay logged commands in the Isaac Lab simulator (Newton, kit-less) with an actuator under test.

Every run of a :class:`~learned_actuators.validation.trajectories.TrajectoryBatch` becomes one env. Each env
starts at its run's logged state; at every log sample k the logged command ``q_target[k]`` (with the target velocity
``qd_target[k]`` and feed-forward torque ``tau_ff[k]`` as Isaac Lab's velocity and effort targets, when logged) is
held for ``decimation`` physics steps (``physics dt = log dt / decimation``) and the simulated state after them is
compared with the logged state at k + 1. Runs that ended keep their last command (their frames are masked).

One simulation is built and closed per call, so several models are replayed one after the other in one
process.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

import isaaclab.sim as sim_utils
from isaaclab.actuators import ActuatorBaseCfg, IdealPDActuatorCfg
from isaaclab.assets import ArticulationCfg
from isaaclab.scene import InteractiveScene, InteractiveSceneCfg
from isaaclab.utils import ArticulationActions, configclass, instantiate, replace
from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg

from learned_actuators.data.joint_log import LogFormatError

from .bench import MIN_INERTIA, BenchParams, arm_body_names, joint_benches, run_benches, write_bench_usd
from .rates import network_dt, physics_dt, resolve_decimation
from .trajectories import TrajectoryBatch
from .validation_cfg import ValidationCfg

__all__ = [
    "GO2_JOINT_NAMES",
    "Gains",
    "Rollout",
    "apply_gains",
    "bench_params",
    "held_joint_torque",
    "match_joint_names",
    "physics_dt",
    "replay",
    "resolve_replica",
    "single_step_torque",
]

logger = logging.getLogger(__name__)

GO2_JOINT_NAMES = [f"{leg}_{part}_joint" for leg in ("FL", "FR", "RL", "RR") for part in ("hip", "thigh", "calf")]
"""Joint names of the Unitree Go2 (Isaac Lab / Unitree naming)."""

HOLD_STIFFNESS = 25.0
"""PD gain [N·m/rad] holding Go2 joints that the log does not cover at their default position."""
HOLD_DAMPING = 0.5
"""Damping [N·m·s/rad] of that hold."""


@dataclass
class Rollout:
    """Simulated trajectories at the log's rate, aligned with the batch. Arrays are (E, T, J) float64."""

    q: np.ndarray
    """Joint positions [rad]; index 0 is the logged initial state."""
    qd: np.ndarray
    """Joint velocities [rad/s]."""
    tau: np.ndarray
    """Torque applied by the actuator [N·m], averaged over the physics steps of each log sample (index k is the
    torque applied from sample k to k + 1; the last sample repeats the one before)."""
    physics_dt: float
    """Physics step used [s]."""


def resolve_replica(batch: TrajectoryBatch, cfg: ValidationCfg) -> str:
    """``"bench"``, ``"go2"`` or ``"joints"`` for this batch (resolving ``cfg.replica == "auto"``).

    Auto: the Go2 when every logged joint is a Go2 joint, the one-joint bench for a one-joint log, else ``"joints"``:
    one independent joint per logged joint, named as logged, each with its own load
    (:func:`~learned_actuators.validation.bench.joint_benches`).
    """
    if cfg.replica != "auto":
        return cfg.replica
    if set(batch.joint_names) <= set(GO2_JOINT_NAMES):
        return "go2"
    return "bench" if len(batch.joint_names) == 1 else "joints"


def match_joint_names(log_names: list[str], robot_names: list[str], source: str) -> list[int]:
    """Indices of the logged joints in the robot's joint list.

    Raises:
        LogFormatError: naming the file, the unknown joints and the robot's joints.
    """
    missing = [n for n in log_names if n not in robot_names]
    if missing:
        raise LogFormatError(
            f"{source}: field 'joint_names' has {missing}, which the simulated robot does not have; "
            f"its joints are {list(robot_names)}."
        )
    return [robot_names.index(n) for n in log_names]


def bench_params(batch: TrajectoryBatch, cfg: ValidationCfg) -> list[BenchParams]:
    """The bench of every run (:func:`~learned_actuators.validation.bench.run_benches`)."""
    return run_benches(batch, cfg)


def _robot_cfg(batch: TrajectoryBatch, cfg: ValidationCfg, actuator_cfg: ActuatorBaseCfg, replica: str):
    """Articulation cfg of the replica with the actuator under test on the logged joints."""
    if replica == "bench":
        usd = write_bench_usd(bench_params(batch, cfg)[0])  # every env's own bench is written after the reset
        return ArticulationCfg(
            prim_path="{ENV_REGEX_NS}/Robot",
            spawn=sim_utils.UsdFileCfg(usd_path=str(usd)),
            init_state=ArticulationCfg.InitialStateCfg(pos=(0.0, 0.0, 1.0), joint_pos={".*": 0.0}),
            actuators={"under_test": replace(actuator_cfg, joint_names_expr=[".*"])},
        )
    if replica == "joints":  # every env's own loads are written after the reset
        usd = write_bench_usd(joint_benches(batch, cfg)[0])
        return ArticulationCfg(
            prim_path="{ENV_REGEX_NS}/Robot",
            spawn=sim_utils.UsdFileCfg(usd_path=str(usd)),
            init_state=ArticulationCfg.InitialStateCfg(pos=(0.0, 0.0, 1.0), joint_pos={".*": 0.0}),
            actuators={"under_test": replace(actuator_cfg, joint_names_expr=[re.escape(n) for n in batch.joint_names])},
        )
    if replica == "go2":
        from learned_actuators.assets.unitree_go2 import UNITREE_GO2_OFFLINE_CFG, require_offline_assets

        match_joint_names(batch.joint_names, GO2_JOINT_NAMES, batch.sources[0])
        require_offline_assets()
        logged = [re.escape(n) for n in batch.joint_names]
        actuators = {"under_test": replace(actuator_cfg, joint_names_expr=logged)}
        others = [n for n in GO2_JOINT_NAMES if n not in batch.joint_names]
        if others:
            actuators["hold"] = IdealPDActuatorCfg(
                joint_names_expr=[re.escape(n) for n in others], stiffness=HOLD_STIFFNESS, damping=HOLD_DAMPING
            )
        return replace(
            UNITREE_GO2_OFFLINE_CFG,
            prim_path="{ENV_REGEX_NS}/Robot",
            spawn=replace(UNITREE_GO2_OFFLINE_CFG.spawn, fix_root_link=True),
            init_state=replace(UNITREE_GO2_OFFLINE_CFG.init_state, pos=(0.0, 0.0, 1.0)),
            actuators=actuators,
        )
    raise ValueError(f"ValidationCfg.replica is {replica!r}; expected 'auto', 'bench', 'joints' or 'go2'.")


@configclass
class _ReplicaSceneCfg(InteractiveSceneCfg):
    robot: ArticulationCfg = None


Gains = tuple[np.ndarray, np.ndarray]
"""PD gains ``(kp, kd)`` in [N·m/rad] and [N·m·s/rad]: per run, each of shape (E,) or (E, J), or per step (E, T, J)
when the logs carry gains that change (:func:`~.baselines.log_gains`)."""


def per_step(gains: Gains | None) -> bool:
    """Whether ``gains`` change per step (arrays of shape (E, T, J))."""
    return gains is not None and np.ndim(gains[0]) == 3


def apply_gains(actuator, gains: Gains | None, num_envs: int, name: str, step: int = 0) -> None:
    """Write gains into an actuator object's ``stiffness``/``damping`` buffers (num_envs, num_joints).

    Per-step gains (:func:`per_step`) write those of log sample ``step``; the replay calls this at every sample.

    Raises:
        ValueError: if gains are given but the actuator has no PD gains.
    """
    if gains is None:
        return
    if not (hasattr(actuator, "stiffness") and hasattr(actuator, "damping")):
        raise ValueError(
            f"model {name!r} ({type(actuator).__name__}) has no PD gains to set from the log; "
            "set ValidationCfg.gains_from_log=False for it."
        )
    for buf, values in ((actuator.stiffness, gains[0]), (actuator.damping, gains[1])):
        values = values[:, step] if per_step(gains) else values
        values = torch.as_tensor(np.asarray(values, dtype=np.float64), dtype=buf.dtype, device=buf.device)
        buf[:] = values.reshape(num_envs, -1).expand_as(buf)


def replay(
    batch: TrajectoryBatch,
    actuator_cfg: ActuatorBaseCfg,
    cfg: ValidationCfg,
    name: str = "model",
    gains: Gains | None = None,
) -> Rollout:
    """Replay every run of ``batch`` open-loop in the simulator with ``actuator_cfg`` on the logged joints.

    Args:
        batch: Logged runs (one env each).
        actuator_cfg: Actuator under test (any explicit Isaac Lab actuator cfg; ``joint_names_expr`` is set here).
        cfg: Validation settings (replica, decimation, device).
        name: Label for the progress bar.
        gains: Per-run PD gains written into the actuator (Isaac Lab execution path only), or None.

    Returns:
        The simulated trajectories at the log's rate.
    """
    decimation = resolve_decimation(batch.dt, cfg, [network_dt(actuator_cfg)], batch.sources[0])
    dt = batch.dt / decimation
    if gains is not None and cfg.use_newton_actuators:
        raise ValueError("per-run gains need use_newton_actuators=False (Isaac Lab's actuator objects).")
    replica = resolve_replica(batch, cfg)
    robot_cfg = _robot_cfg(batch, cfg, actuator_cfg, replica)
    sim_cfg = sim_utils.SimulationCfg(
        dt=dt,
        device=cfg.device,
        gravity=(0.0, 0.0, -9.81) if cfg.gravity else (0.0, 0.0, 0.0),
        physics=NewtonCfg(
            solver_cfg=MJWarpSolverCfg(integrator="implicitfast", njmax=50, nconmax=0, disable_contacts=True),
            num_substeps=1,
            use_cuda_graph=False,
        ),
        use_newton_actuators=cfg.use_newton_actuators,
    )
    sim_utils.create_new_stage()
    sim = sim_utils.SimulationContext(sim_cfg)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            scene = InteractiveScene(_ReplicaSceneCfg(num_envs=batch.num_envs, env_spacing=2.0, robot=robot_cfg))
            sim.reset()
            robot = scene["robot"]
            apply_gains(robot.actuators["under_test"], gains, batch.num_envs, name)
            if replica == "bench":
                _write_benches(robot, [[b] for b in bench_params(batch, cfg)], cfg.device)
            elif replica == "joints":
                _write_benches(robot, joint_benches(batch, cfg), cfg.device)
            ids = match_joint_names(batch.joint_names, list(robot.joint_names), batch.sources[0])
            return _run(batch, robot, scene, sim, ids, decimation, cfg, name, gains)
    finally:
        sim.stop()
        sim.clear_instance()


def _write_benches(robot, benches: list[list[BenchParams]], device: str) -> None:
    """Each env's loads (``benches[env][joint]``): every arm's mass and centre of mass, every joint's armature."""
    names = [b.joint_name for b in benches[0]]
    arms = [robot.body_names.index(n) for n in arm_body_names(len(names))]
    masses = [[max(b.mass, MIN_INERTIA) for b in row] for row in benches]
    mass = torch.tensor(masses, dtype=torch.float32, device=device)
    com = torch.tensor([[[0.0, 0.0, -b.length] for b in row] for row in benches], dtype=torch.float32, device=device)
    robot.set_masses_index(masses=mass, body_ids=arms)
    robot.set_coms_index(coms=com, body_ids=arms)
    order = [names.index(n) for n in robot.joint_names]  # the robot's joint order
    armature = torch.tensor([[row[j].armature for j in order] for row in benches], dtype=torch.float32, device=device)
    robot.write_joint_armature_to_sim_index(armature=armature)


def _run(batch, robot, scene, sim, ids, decimation, cfg, name, gains: Gains | None = None) -> Rollout:
    device = cfg.device
    dt = batch.dt / decimation

    def t(x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(x, dtype=torch.float32, device=device)

    num_envs, num_steps, _ = batch.q.shape
    q0 = robot.data.default_joint_pos.torch.clone()
    qd0 = torch.zeros_like(q0)
    q0[:, ids], qd0[:, ids] = t(batch.q[:, 0]), t(batch.qd[:, 0])
    robot.write_joint_position_to_sim_index(position=q0)
    robot.write_joint_velocity_to_sim_index(velocity=qd0)
    robot.reset()
    target = q0.clone()
    robot.actuators.target_command.set_position_index(value=target)
    robot.actuators.target_command.set_velocity_index(value=torch.zeros_like(target))
    scene.update(0.0)

    q = np.empty_like(batch.q)
    qd = np.empty_like(batch.qd)
    tau = np.zeros_like(batch.q)
    q[:, 0], qd[:, 0] = batch.q[:, 0], batch.qd[:, 0]
    steps = tqdm(range(num_steps - 1), desc=f"replay {name}", unit="step", disable=not cfg.show_progress, leave=False)
    velocity, effort = torch.zeros_like(target), torch.zeros_like(target)
    for k in steps:
        if per_step(gains):  # logged gains that change: Isaac Lab's per-env stiffness/damping, set every sample
            apply_gains(robot.actuators["under_test"], gains, num_envs, name, k)
        target[:, ids] = t(batch.q_target[:, k])
        if batch.qd_target is not None:  # the rest of the logged command: Isaac Lab's velocity and effort targets
            velocity[:, ids] = t(batch.qd_target[:, k])
        if batch.tau_ff is not None:
            effort[:, ids] = t(batch.tau_ff[:, k])
        torque = torch.zeros(num_envs, len(ids), device=device)
        for _ in range(decimation):
            robot.actuators.target_command.set_position_index(value=target)
            robot.actuators.target_command.set_velocity_index(value=velocity)
            robot.actuators.target_command.set_effort_index(value=effort)
            scene.write_data_to_sim()
            sim.step(render=False)
            scene.update(dt)
            torque += robot.actuators.applied_effort.torch[:, ids]
        q[:, k + 1] = robot.data.joint_pos.torch[:, ids].cpu().numpy()
        qd[:, k + 1] = robot.data.joint_vel.torch[:, ids].cpu().numpy()
        tau[:, k] = (torque / decimation).cpu().numpy()
    if num_steps > 1:
        tau[:, -1] = tau[:, -2]
    return Rollout(q=q, qd=qd, tau=tau, physics_dt=dt)


def single_step_torque(
    batch: TrajectoryBatch,
    actuator_cfg: ActuatorBaseCfg,
    cfg: ValidationCfg,
    name: str = "model",
    gains: Gains | None = None,
) -> np.ndarray:
    """Torque [N·m] of the actuator model fed the logged state (no simulator), shape (E, T, J).

    The actuator class is built outside the simulator with one env per run and called ``decimation`` times per
    log sample with the logged ``q``, ``qd`` and ``q_target`` (as the simulator would call it with the state
    held), so stateful models (histories, recurrent state) advance at the physics rate.
    """
    decimation = resolve_decimation(batch.dt, cfg, [network_dt(actuator_cfg)], batch.sources[0])
    dt = batch.dt / decimation
    num_envs, num_steps, _ = batch.q.shape
    if getattr(actuator_cfg, "physics_dt", "absent") is None:  # learned actuators need the step outside a sim
        actuator_cfg = replace(actuator_cfg, physics_dt=dt)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        actuator = instantiate(
            replace(actuator_cfg, joint_names_expr=[re.escape(n) for n in batch.joint_names]),
            joint_names=list(batch.joint_names),
            joint_ids=slice(None),
            num_envs=num_envs,
            device=cfg.device,
            stiffness=0.0,
            damping=0.0,
        )
    apply_gains(actuator, gains, num_envs, name)
    actuator.reset(list(range(num_envs)))
    out = np.zeros_like(batch.q)

    def t(x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(x, dtype=torch.float32, device=cfg.device)

    zeros = np.zeros_like(batch.q)
    velocities = batch.qd_target if batch.qd_target is not None else zeros
    efforts = batch.tau_ff if batch.tau_ff is not None else zeros
    for k in range(num_steps):
        if per_step(gains):
            apply_gains(actuator, gains, num_envs, name, k)
        q, qd, target = t(batch.q[:, k]), t(batch.qd[:, k]), t(batch.q_target[:, k])
        velocity, effort = t(velocities[:, k]), t(efforts[:, k])
        for _ in range(decimation):
            action = ArticulationActions(
                joint_positions=target.clone(), joint_velocities=velocity.clone(), joint_efforts=effort.clone()
            )
            action = actuator.compute(action, joint_pos=q, joint_vel=qd)
        out[:, k] = action.joint_efforts.detach().cpu().numpy()
    return out


FRICTION_OVERRIDES = (
    "coulomb_friction",
    "friction_load",
    "pd_torque_speed_curve",
    "pd_stall_torque",
    "pd_no_load_speed",
)
"""GRU-PD cfg fields that change the physics of the file's friction term (:func:`held_joint_torque` then keeps the
actuator's torque)."""


def held_joint_torque(
    batch: TrajectoryBatch, actuator_cfg: ActuatorBaseCfg, cfg: ValidationCfg, gains: Gains | None, tau: np.ndarray
) -> np.ndarray:
    """``tau`` (E, T, J) of :func:`single_step_torque` with a GRU-PD file's Coulomb friction holding each joint.

    The torque the trainer scores (:func:`~learned_actuators.learning.rollout.held_torque`): on the logged velocity
    the actuator's smoothed friction flips sign with its quantisation wherever a joint stands still, while in the
    simulator the joint creeps until the friction balances its load. Applied on the bench and joints replicas (each
    joint's own load, :func:`~.bench.run_benches` / :func:`~.bench.joint_benches`) to a file whose physics has
    friction, at the model's gains ``gains``; ``tau`` unchanged otherwise (another model, the Go2 replica, an unknown
    load, or a cfg that overrides the friction's physics: :data:`FRICTION_OVERRIDES`).
    """
    from learned_actuators.data.inverse_dynamics import GRAVITY
    from learned_actuators.learning.rollout import held_torque
    from learned_actuators.network_file import load_network
    from learned_actuators.physics import PhysicsParams

    path = getattr(actuator_cfg, "network_file", None)
    if not path or gains is None or any(getattr(actuator_cfg, n, None) is not None for n in FRICTION_OVERRIDES):
        return tau
    physics = load_network(path)[1].physics
    params = PhysicsParams.from_dict(physics) if physics else PhysicsParams()
    replica = resolve_replica(batch, cfg)
    if (params.friction == 0.0 and params.friction_load == 0.0) or replica == "go2":
        return tau
    try:
        benches = [[b] for b in run_benches(batch, cfg)] if replica == "bench" else joint_benches(batch, cfg)
    except (LogFormatError, ValueError):
        return tau  # no load: no rollout either (the report says so)
    g = GRAVITY if cfg.gravity else 0.0
    inertia = np.asarray([[b.inertia for b in row] for row in benches])[:, None, :]
    mgl = np.asarray([[b.mass * g * b.length for b in row] for row in benches])[:, None, :]
    shape = (batch.num_envs, -1, len(batch.joint_names)) if per_step(gains) else (batch.num_envs, 1, -1)
    kp, kd = (np.asarray(a, dtype=np.float64).reshape(shape) for a in gains)  # (E, T or 1, J)
    extras = {"kd": kd} | {k: getattr(batch, k) for k in ("qd_target", "tau_ff") if getattr(batch, k) is not None}
    state = (batch.q, batch.qd, batch.q_target)
    n = batch.num_steps  # a replay group's torque runs on past a shorter part's steps: that padding stays as it is
    held = held_torque(tau[:, :n], state, kp, params, (inertia, mgl), batch.dt, extras)
    return np.concatenate([held, tau[:, n:]], axis=1)

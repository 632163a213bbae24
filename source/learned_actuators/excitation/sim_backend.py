"""Simulator backend: run a plan on our Go2 task with its base fixed in the air (Isaac Lab 3, kit-less, Newton).

The env is the registered task (default ``LearnedActuators-Velocity-Flat-UnitreeGo2-Offline``: stock DC motors;
``...-GRUPD-Offline`` etc. for a learned actuator, its file set by ``network_file``) with these changes: the root
link is fixed (``spawn.fix_root_link``) at ``height`` above the ground so the feet hang free, the task's randomising
events are removed, and the plan's gains are written into PD-type actuators (IdealPD, DC motor, GRU-PD; the LSTM
and MLP nets have no gain input and keep their own); the actuators run on Isaac Lab's explicit Python path unless
``native_actuators`` (see there why). The managers (actions, observations, rewards, resets) are
bypassed: each plan target is sent to the articulation and held for the task's ``decimation`` physics steps (the
policy rate). Every physics step logs one row: the state before it, the command, and the actuator's applied torque
during it (the "torque estimate"), i.e. the log rate is the physics rate (200 Hz for the Go2 task).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserInputError
from .go2 import GO2_JOINT_NAMES
from .plan import ExcitationPlan
from .record import ExcitationRecord, Recorder

__all__ = ["DEFAULT_TASK", "SimBackendCfg", "run_sim_excitation"]

logger = logging.getLogger(__name__)

DEFAULT_TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-Offline"
"""The offline Go2 flat task with Isaac Lab's DC-motor actuator."""

NETWORK_FILE_KEY = "env.scene.robot.actuators.base_legs.network_file"
"""Override setting a learned-actuator task's network file."""


@dataclass
class SimBackendCfg:
    """Which task and actuator the simulated session runs on."""

    task: str = DEFAULT_TASK
    """Registered Go2 task id (``LearnedActuators-Velocity-{Flat,Rough}-UnitreeGo2[-{GRUPD,LSTM,MLP}]-Offline``)."""
    network_file: str | None = None
    """Actuator network file of a learned-actuator task (None: the task's default, e.g. the GRU-PD starter)."""
    overrides: list[str] = field(default_factory=list)
    """More Hydra-style ``env.<field>=<value>`` overrides of the task (as on the ``isaaclab train`` line)."""
    device: str = "cpu"
    """Simulation device."""
    height: float = 1.0
    """Height [m] of the fixed base's initial position (the feet must hang free)."""
    native_actuators: bool = False
    """Run the actuators natively in Newton (``sim.use_newton_actuators``, the task's default) instead of Isaac
    Lab's explicit Python path (default here). Newton's PD drives act implicitly, so their reported torque belongs
    to the state after the step, not to the logged state before it; the explicit path's torque is computed from
    the logged state and command, which is what a torque label must be."""
    show_progress: bool = True
    """Show a progress bar."""


def _suspend(env_cfg, height: float) -> None:
    """Fix the robot's root link in the air and drop every randomising event, in place."""
    from isaaclab.utils import replace

    robot = env_cfg.scene.robot
    init = replace(robot.init_state, pos=(0.0, 0.0, float(height)), lin_vel=(0.0,) * 3, ang_vel=(0.0,) * 3)
    env_cfg.scene.robot = replace(robot, spawn=replace(robot.spawn, fix_root_link=True), init_state=init)
    events = env_cfg.events
    for name in [f.name for f in dataclasses.fields(events)] if dataclasses.is_dataclass(events) else []:
        setattr(events, name, None)


def _gains_apply(actuator_cfg) -> bool:
    """Whether an actuator cfg runs a PD at cfg gains (IdealPD/DC motor, GRU-PD), not a net without gain input."""
    from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg, LearnedActuatorBaseCfg

    return isinstance(actuator_cfg, CombinedGRUAndPDActuatorCfg) or not isinstance(actuator_cfg, LearnedActuatorBaseCfg)


def _set_gains(env_cfg, plan: ExcitationPlan) -> list[str]:
    """Write the plan's kp/kd into the robot's PD-type actuator cfgs; returns the groups whose gains were set."""
    from isaaclab.utils import replace

    actuators, applied = {}, []
    for name, cfg in env_cfg.scene.robot.actuators.items():
        if _gains_apply(cfg):
            cfg = replace(cfg, stiffness=dict(plan.kp), damping=dict(plan.kd))
            applied.append(name)
        actuators[name] = cfg
    env_cfg.scene.robot = replace(env_cfg.scene.robot, actuators=actuators)
    return applied


def _check_robot(robot, plan: ExcitationPlan, control_dt: float, physics_dt: float) -> tuple[list[int], int]:
    """Joint indices of the plan's joints and the decimation; refuses a robot or rate the plan does not fit."""
    names = list(robot.joint_names)
    missing = [j for j in GO2_JOINT_NAMES if j not in names]
    if missing:
        raise UserInputError(f"SimBackendCfg.task: the robot lacks Go2 joints {missing}; its joints are {names}.")
    decimation = round(control_dt / physics_dt)
    if decimation < 1 or abs(decimation * physics_dt - control_dt) > 1e-6 * control_dt:
        raise UserInputError(
            f"ExcitationCfg.control_hz={1 / control_dt:g}: expected a rate dividing the simulator's physics rate "
            f"{1 / physics_dt:g} Hz (e.g. {1 / (physics_dt * 4):g} Hz, the task's policy rate)."
        )
    limits = robot.data.joint_pos_limits.torch[0].cpu().numpy()
    for j in plan.joint_names:
        lo, hi = limits[names.index(j)]
        plo, phi = plan.limits[j]
        if plo < lo - 1e-4 or phi > hi + 1e-4:
            raise UserInputError(
                f"{j}: the plan's range [{plo:.4g}, {phi:.4g}] rad is outside the simulated joint limits "
                f"[{lo:.4g}, {hi:.4g}] rad; raise ExcitationCfg.limit_margin or lower the amplitude."
            )
    return [names.index(j) for j in plan.joint_names], decimation


def run_sim_excitation(plan: ExcitationPlan, cfg: SimBackendCfg | None = None) -> ExcitationRecord:
    """Run ``plan`` on the suspended simulated Go2; return the log (one row per physics step).

    Raises:
        UserInputError: an unknown task, a control rate that does not divide the physics rate, or a plan outside
            the simulated joint limits.
    """
    from learned_actuators.envs import make_env

    cfg = cfg or SimBackendCfg()
    overrides = list(cfg.overrides) + ([f"{NETWORK_FILE_KEY}={cfg.network_file}"] if cfg.network_file else [])
    state: dict = {}

    def modify(env_cfg) -> None:
        _suspend(env_cfg, cfg.height)
        env_cfg.sim.use_newton_actuators = cfg.native_actuators
        state["gains_set"] = _set_gains(env_cfg, plan)
        state["actuators"] = {n: type(a).__name__ for n, a in env_cfg.scene.robot.actuators.items()}

    try:
        with make_env(cfg.task, 1, device=cfg.device, modify_cfg=modify, overrides=overrides) as env:
            return _run(env.unwrapped, plan, cfg, state)
    except ValueError as err:
        if "Unknown task" in str(err):
            raise UserInputError(f"SimBackendCfg.task={cfg.task!r}: {err}") from err
        raise


def _run(env, plan: ExcitationPlan, cfg: SimBackendCfg, state: dict) -> ExcitationRecord:
    import torch
    from tqdm.auto import tqdm

    robot, sim, scene = env.scene["robot"], env.sim, env.scene
    physics_dt = float(sim.get_physics_dt())
    ids, decimation = _check_robot(robot, plan, plan.dt, physics_dt)
    names = list(robot.joint_names)
    feet = [i for i, n in enumerate(robot.body_names) if n.endswith("_foot")]
    device = cfg.device
    full = torch.zeros(1, len(names), device=device)
    for k, value in plan.all_targets(0).items():
        full[0, names.index(k)] = value
    robot.write_joint_position_to_sim_index(position=full.clone())
    robot.write_joint_velocity_to_sim_index(velocity=torch.zeros_like(full))
    robot.reset()
    scene.update(0.0)
    kp = np.array([plan.kp[j] for j in plan.joint_names])
    kd = np.array([plan.kd[j] for j in plan.joint_names])
    zeros = np.zeros(len(ids))
    rec = Recorder(plan.joint_names, plan.num_steps * decimation)
    min_foot, reason = np.inf, "completed"
    bar = tqdm(range(plan.num_steps), desc="excite (sim)", unit="step", disable=not cfg.show_progress, leave=False)
    for k in bar:
        target = plan.q_target[k]
        full[0, ids] = torch.as_tensor(target, dtype=full.dtype, device=device)
        for sub in range(decimation):
            q = robot.data.joint_pos.torch[0, ids].cpu().numpy().astype(np.float64)
            qd = robot.data.joint_vel.torch[0, ids].cpu().numpy().astype(np.float64)
            if not (np.isfinite(q).all() and np.isfinite(qd).all()):
                reason = f"non-finite simulated state at t={(k * decimation + sub) * physics_dt:.4g} s"
                break
            robot.actuators.target_command.set_position_index(value=full)
            scene.write_data_to_sim()
            sim.step(render=False)
            scene.update(physics_dt)
            tau = robot.actuators.applied_effort.torch[0, ids].cpu().numpy().astype(np.float64)
            t = (k * decimation + sub) * physics_dt
            rec.append(t, int(plan.segment[k]), q=q, qd=qd, tau=tau, q_target=target, kp=kp, kd=kd, tau_ff=zeros)
        if reason != "completed":
            logger.error("stopping: %s", reason)
            break
        if feet:
            min_foot = min(min_foot, float(robot.data.body_link_pos_w.torch[0, feet, 2].min()))
    info = {
        "backend": "sim",
        "task": cfg.task,
        "actuator": ", ".join(f"{n}: {c}" for n, c in state.get("actuators", {}).items()),
        "network_file": cfg.network_file,
        "gains_set_on": state.get("gains_set", []),
        "newton_actuators": bool(env.cfg.sim.use_newton_actuators),
        "physics_dt": physics_dt,
        "decimation": decimation,
        "log_hz": 1.0 / physics_dt,
        "min_foot_height_m": min_foot if np.isfinite(min_foot) else None,
        "stop_reason": reason,
    }
    return rec.finish(info)

"""GPU benchmark: the native GRU-PD drive per call inside captured CUDA graphs, and Go2 env throughput vs DC motors.

One prepared script that fits in 10 minutes on one GPU (``--budget-s``; the env part is cut off at the budget) and
prints a table, PASS/FAIL of the CUDA-graph state check, and writes everything as JSON to ``--out``:

(a) **Per call at ``--envs`` x 12 joints** (default 4096 x 12), the shipped Go2 starter GRU-PD
    (:func:`learned_actuators.models.go2_starter_path`, net every 4 physics steps of 5 ms), each as Newton's
    ``Actuator.step`` (drive, clamps, scatter into ``joint_f``) after a small kernel that moves the joint inputs
    (so that every step sees new inputs):

    * ``GRU-PD native, graph of k``: our :class:`~learned_actuators.newton_drives.DriveGRUPD` (Warp kernels), ``k``
      steps (``--graph-steps``, odd and even) captured in one CUDA graph (``wp.ScopedCapture``) and replayed with
      ``wp.capture_launch``; the actuator states are swapped on the host after every step and **never** assigned at
      the graph's end, the double-buffer trap of newton issue #4098 (with an odd ``k`` a drive that swaps on the host
      would replay a stale state);
    * ``DC motor, graph of k``: Newton's ``DrivePD`` + ``ClampingDCMotor`` (what Isaac Lab authors for its
      ``DCMotorCfg``: the stock Go2 actuator on the native path), same capture;
    * ``inputs only, graph of k``: the input kernel and the zeroing alone (the rig's own share of each figure);
    * ``... eager``: the same steps launched without a graph; ``Python-path GRU-PD``: our
      :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` ``compute()`` in torch (Isaac Lab's Python
      actuator path; no graph possible).

    **Graph check**: after ``--check-replays`` replays of each graph, the hidden state, held output and rate phase in
    *both* buffers of the double buffer, and the last forces, must equal an uncaptured run of the same number of
    steps on a second drive (max abs difference <= 1e-4): PASS/FAIL per ``k``; a FAIL exits with status 1.

(b) **Go2 flat env-steps/s at ``--envs``** on Isaac Lab's default native path: the GRU-PD task (starter model) vs the
    stock DC-motor task, ``--steps`` timed policy steps, one process per variant and round (``bench_env.py``'s
    children), the ratio per round (goal >= 0.95x); the table says whether Isaac Lab captured the actuators in its
    CUDA graph.

CPU mode (``--device cpu --envs 64 --steps 20``, what ``tests/benchmarks/`` runs): no CUDA graph exists on a CPU, so
nothing is captured (the output and the JSON say so) and the "graph" callables run eagerly; the graph check then
compares the drive's Warp kernels (``compute_backend="warp"``, run in the "graph" slot) with its CPU default, the
torch backend (the reference). Everything else is the same code.

    python benchmarks/bench_gpu.py --out gpu.json                                  # CUDA, 4096 envs
    python benchmarks/bench_gpu.py --device cpu --envs 64 --steps 20 --out cpu.json
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time
from types import SimpleNamespace

import numpy as np
import torch
import warp as wp
from newton.actuators import Actuator, ClampingDCMotor, DrivePD

from isaaclab.utils.types import ArticulationActions

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg
from learned_actuators.atomic_io import atomic_write_json
from learned_actuators.models import go2_starter_path
from learned_actuators.newton_drives import DriveGRUPD

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_env

JOINTS = 12
PHYSICS_DT = 0.005
TOLERANCE = 1e-4  # N·m and state units: the project's native-vs-reference tolerance
GOAL_US_PER_CALL = 50.0
GOAL_ENV_RATIO = 0.95
DC_MOTOR = {"kp": 25.0, "kd": 0.5, "saturation_effort": 23.7, "velocity_limit": 30.1, "max_motor_effort": 23.7}
"""Isaac Lab's stock Go2 DC motor (hip/thigh): stiffness, damping, stall torque, no-load speed, effort limit."""


@wp.kernel(enable_backward=False)
def _move_inputs(
    clock: wp.array(dtype=wp.int32),
    dt: float,
    q: wp.array(dtype=float),
    qd: wp.array(dtype=float),
    qt: wp.array(dtype=float),
):
    """Joint position, velocity and target of every slot at time ``clock * dt`` (sines, a phase per slot)."""
    i = wp.tid()
    t = float(clock[0]) * dt
    phase = float(i % 97) * 0.37
    w = 2.0 * wp.pi * 1.3
    q[i] = 0.4 * wp.sin(w * t + phase)
    qd[i] = 0.6 * w * wp.cos(w * t + phase)
    qt[i] = 0.7 * wp.sin(2.0 * wp.pi * 0.9 * t + 2.0 * phase)


@wp.kernel(enable_backward=False)
def _tick(clock: wp.array(dtype=wp.int32)):
    clock[0] = clock[0] + 1


class Rig:
    """Newton-like ``state`` / ``control`` objects for ``n`` slots with a device-side clock moving the inputs."""

    def __init__(self, n: int, device: wp.Device):
        self.n, self.device = n, device
        self.clock = wp.zeros(1, dtype=wp.int32, device=device)

        def zeros():
            return wp.zeros(n, dtype=wp.float32, device=device)

        self.state = SimpleNamespace(joint_q=zeros(), joint_qd=zeros())
        self.control = SimpleNamespace(joint_target_q=zeros(), joint_target_qd=zeros(), joint_act=zeros())
        self.control.joint_f = zeros()

    def advance(self) -> None:
        """New inputs, then the clock's tick; both are kernels (captured with the step)."""
        arrays = [self.state.joint_q, self.state.joint_qd, self.control.joint_target_q]
        wp.launch(_move_inputs, dim=self.n, inputs=[self.clock, PHYSICS_DT], outputs=arrays, device=self.device)
        wp.launch(_tick, dim=1, inputs=[self.clock], device=self.device)


def _indices(n: int, device) -> wp.array:
    return wp.array(np.arange(n, dtype=np.uint32), device=device)


def gru_pd_actuator(n: int, device, backend: str | None = None) -> Actuator:
    """Newton ``Actuator`` running our GRU-PD drive on the starter file (its own limits; no Newton clamp)."""
    return Actuator(_indices(n, device), drive=DriveGRUPD(go2_starter_path(), compute_backend=backend))


def dc_motor_actuator(n: int, device) -> Actuator:
    """Newton ``Actuator`` as Isaac Lab builds it for the stock Go2 ``DCMotorCfg``: ``DrivePD`` + DC clamp."""

    def full(name):
        return wp.full(n, DC_MOTOR[name], dtype=wp.float32, device=device)

    clamp = ClampingDCMotor(full("saturation_effort"), full("velocity_limit"), full("max_motor_effort"))
    return Actuator(_indices(n, device), drive=DrivePD(kp=full("kp"), kd=full("kd")), clamping=[clamp])


def stepper(actuator: Actuator | None, rig: Rig, states: list, steps: int):
    """``steps`` physics steps as Isaac Lab's decimation loop runs them; states swapped on the host, never assigned."""

    def run():
        for _ in range(steps):
            rig.advance()
            rig.control.joint_f.zero_()
            if actuator is not None:
                actuator.step(rig.state, rig.control, states[0], states[1], dt=PHYSICS_DT)
                states.reverse()

    return run


def _states(actuator: Actuator | None) -> list:
    if actuator is None or not actuator.is_stateful():
        return [None, None]
    return [actuator.state(), actuator.state()]


def replayable(actuator: Actuator | None, n: int, device: wp.Device, steps: int):
    """``(call, captured, rig, states)``: ``steps`` steps on a fresh rig and fresh states, as one callable.

    On CUDA devices ``call`` replays a CUDA graph of them (``wp.ScopedCapture``; the modules are loaded by an eager
    run on a throwaway rig and states first, as Isaac Lab does before its capture); elsewhere it runs them eagerly.
    """
    if device.is_cuda:
        stepper(actuator, Rig(n, device), _states(actuator), steps)()
    rig, states = Rig(n, device), _states(actuator)
    run = stepper(actuator, rig, list(states), steps)
    if not device.is_cuda:
        return run, False, rig, states
    with wp.ScopedCapture(device=device, force_module_load=False) as capture:
        run()
    graph = capture.graph
    return (lambda: wp.capture_launch(graph)), True, rig, states


def _state_arrays(state) -> dict[str, np.ndarray]:
    drive = state.drive_state
    return {name: getattr(drive, name).numpy().copy() for name in ("hidden", "held", "phase")}


def check_graph(n: int, device: wp.Device, steps: int, replays: int) -> dict:
    """Replay a graph of ``steps`` GRU-PD steps ``replays`` times; compare with an uncaptured run (both buffers)."""
    backend = None if device.is_cuda else "warp"  # CPU: Warp kernels vs the torch backend (the CPU default)
    act = gru_pd_actuator(n, device, backend)
    call, is_captured, rig, pair = replayable(act, n, device, steps)
    for _ in range(replays):
        call()
    ref, ref_rig = gru_pd_actuator(n, device), Rig(n, device)
    ref_states = _states(ref)
    stepper(ref, ref_rig, ref_states, replays * steps)()
    wp.synchronize()
    expected = _state_arrays(ref_states[0])
    diffs = {"forces": float(np.abs(rig.control.joint_f.numpy() - ref_rig.control.joint_f.numpy()).max())}
    for which, state in zip(("a", "b"), pair, strict=True):
        got = _state_arrays(state)
        for name, value in expected.items():
            diffs[f"{name}_{which}"] = float(np.abs(got[name].astype(np.float64) - value).max())
    moved = float(np.abs(expected["hidden"]).max()) > 0.0 and float(np.abs(ref_rig.control.joint_f.numpy()).max()) > 0
    ok = moved and max(diffs.values()) <= TOLERANCE
    return {
        "steps_per_graph": steps,
        "replays": replays,
        "captured": is_captured,
        "graph_backend": act.drive.backend,
        "reference_backend": ref.drive.backend,
        "phase_expected": int(expected["phase"][0]),
        "max_abs_diff": diffs,
        "state_moved": moved,
        "pass": ok,
    }


def _python_path(n: int, device: wp.Device, rig: Rig):
    """Our Python-path GRU-PD ``compute()`` on torch views of the rig's arrays (after the rig's input kernel)."""
    envs = n // JOINTS
    torch_device = wp.device_to_torch(device)
    cfg = CombinedGRUAndPDActuatorCfg(
        joint_names_expr=[".*"],
        network_file=go2_starter_path(),
        physics_dt=PHYSICS_DT,
        saturation_effort=DC_MOTOR["saturation_effort"],
        actuator_velocity_limit=DC_MOTOR["velocity_limit"],
        actuator_effort_limit=DC_MOTOR["max_motor_effort"],
    )
    names = [f"joint_{i}" for i in range(JOINTS)]
    act = cfg.class_type(cfg, joint_names=names, joint_ids=slice(None), num_envs=envs, device=torch_device)
    arrays = (rig.state.joint_q, rig.state.joint_qd, rig.control.joint_target_q)
    q, qd, qt = (wp.to_torch(a).view(envs, JOINTS) for a in arrays)
    zeros = torch.zeros(envs, JOINTS, device=torch_device)
    on_torch_stream = (
        (lambda: wp.ScopedStream(wp.stream_from_torch(torch.cuda.current_stream(torch_device))))
        if device.is_cuda
        else contextlib.nullcontext
    )

    def run():
        with on_torch_stream():  # the input kernel on torch's stream: ordered with the actuator's torch ops
            rig.advance()
        action = ArticulationActions(joint_positions=qt.clone(), joint_velocities=zeros, joint_efforts=zeros)
        act.compute(action, q, qd)

    return run


def _cases(n: int, device: wp.Device, graph_steps: list[int]) -> dict:
    """``{name: (callable, physics steps per call of it, captured)}`` for the per-call table."""
    cases = {}
    for steps in graph_steps:
        for label, make in (("GRU-PD native", gru_pd_actuator), ("DC motor", dc_motor_actuator), ("inputs only", None)):
            act = None if make is None else make(n, device)
            call, is_captured, _, _ = replayable(act, n, device, steps)
            cases[f"{label}, graph of {steps}"] = (call, steps, is_captured)
    for label, make in (("GRU-PD native", gru_pd_actuator), ("DC motor", dc_motor_actuator)):
        act = make(n, device)
        cases[f"{label}, eager"] = (stepper(act, Rig(n, device), _states(act), 1), 1, False)
    cases["Python-path GRU-PD (torch)"] = (_python_path(n, device, Rig(n, device)), 1, False)
    return cases


def _time_us(fn, steps: int, reps: int) -> float:
    wp.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    wp.synchronize()
    return (time.perf_counter() - start) / (reps * steps) * 1e6


def per_call(n: int, device: wp.Device, graph_steps: list[int], reps: int, rounds: int) -> list[dict]:
    """Median µs per physics step of every case over ``rounds`` interleaved rounds of ``reps`` calls each."""
    cases = _cases(n, device, graph_steps)
    for fn, steps, _ in cases.values():  # warm-up: module loads, first net steps, torch allocations
        _time_us(fn, steps, 2)
    samples = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (fn, steps, _) in cases.items():
            samples[name].append(_time_us(fn, steps, reps))
    rows = []
    for name, (_, steps, is_captured) in cases.items():
        row = {"variant": name, "steps_per_call": steps, "captured": is_captured}
        row["us_per_step"] = statistics.median(samples[name])
        row["us_per_step_rounds"] = samples[name]
        dc = samples.get(name.replace("GRU-PD native", "DC motor"))
        if name.startswith("GRU-PD native") and dc is not None:
            row["ratio_to_dc_motor"] = statistics.median(a / b for a, b in zip(samples[name], dc, strict=True))
        rows.append(row)
    return rows


def env_part(args, device: wp.Device, deadline: float) -> dict:
    """Go2 flat env-steps/s, GRU-PD (starter) vs DC motor, on the native path (``bench_env`` children)."""
    try:
        results = bench_env.run_rounds(
            ["dc_motor", "gru_pd"], [args.envs], args.steps, args.env_repeats, str(device), deadline
        )
    except RuntimeError as err:
        return {"error": str(err)}
    rows = bench_env.summarize(results)
    ratio = next(r["ratio_to_dc_motor"] for r in rows if r["actuator"] == "gru_pd")
    return {
        "rows": rows,
        "ratio_gru_pd_to_dc_motor": ratio,
        "goal": GOAL_ENV_RATIO,
        "goal_met": ratio >= GOAL_ENV_RATIO,
    }


def _print_per_call(rows: list[dict], n: int, device: wp.Device, is_cuda: bool) -> None:
    print(
        f"\n(a) per physics step at {n // JOINTS} envs x {JOINTS} joints = {n} slots on {device}, Newton Actuator.step"
    )
    if not is_cuda:
        print("    CPU mode: no CUDA graph exists on a CPU; nothing is captured, the 'graph of k' rows run eagerly;")
        print("    'GRU-PD native' runs the drive's CPU default there (torch backend; CUDA runs its Warp kernels)")
    print(f"  {'variant':34s} {'captured':>9s} {'us/step':>10s} {'vs DC motor':>12s}")
    for row in rows:
        ratio = f"{row['ratio_to_dc_motor']:.2f}x" if "ratio_to_dc_motor" in row else ""
        print(f"  {row['variant']:34s} {row['captured']!s:>9s} {row['us_per_step']:10.1f} {ratio:>12s}")


def _print_checks(checks: list[dict]) -> None:
    print("\nCUDA-graph state check (both double-buffer halves and the forces vs an uncaptured run, tol 1e-4):")
    for c in checks:
        worst = max(c["max_abs_diff"].values())
        print(
            f"  graph of {c['steps_per_graph']} steps x {c['replays']} replays "
            f"({'captured' if c['captured'] else 'not captured'}, "
            f"{c['graph_backend']} vs {c['reference_backend']}): max diff {worst:.2e}, phase {c['phase_expected']} "
            f"-> {'PASS' if c['pass'] else 'FAIL'}"
        )


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda:0", help="cuda:0 (CUDA graphs) or cpu (smoke mode, no capture)")
    parser.add_argument("--envs", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=200, help="timed env policy steps per variant (part b)")
    parser.add_argument("--graph-steps", type=int, nargs="+", default=[1, 4, 5], help="physics steps per graph")
    parser.add_argument("--check-replays", type=int, default=7)
    parser.add_argument("--reps", type=int, default=None, help="calls per timing sample (default 100 CUDA, 2 CPU)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (part a)")
    parser.add_argument("--env-repeats", type=int, default=1, help="interleaved env rounds (part b)")
    parser.add_argument("--budget-s", type=float, default=540.0, help="wall-clock budget; part b stops at it")
    parser.add_argument("--skip-env", action="store_true", help="part (a) only")
    parser.add_argument("--out", required=True, help="JSON result file (must not exist)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.monotonic()
    if os.path.exists(args.out):
        sys.exit(f"--out {args.out}: the file exists; benchmarks never overwrite an earlier run, pass a new path")
    device = wp.get_device(args.device)
    n = args.envs * JOINTS
    reps = args.reps or (100 if device.is_cuda else 2)
    name = torch.cuda.get_device_name(device.ordinal) if device.is_cuda else platform.processor()
    print(f"bench_gpu on {device} ({name}), model {os.path.basename(go2_starter_path())}")
    checks = [check_graph(n, device, k, args.check_replays) for k in args.graph_steps]
    rows = per_call(n, device, args.graph_steps, reps, args.rounds)
    _print_per_call(rows, n, device, device.is_cuda)
    _print_checks(checks)
    native = [r for r in rows if r["variant"].startswith("GRU-PD native, graph")]
    best = min(r["us_per_step"] for r in native)
    print(f"\nGRU-PD native per step, best graph: {best:.1f} us (goal <= {GOAL_US_PER_CALL:.0f} us on CUDA)")
    result = {
        "device": str(device),
        "captured": device.is_cuda,
        "capture_note": "CUDA graphs captured" if device.is_cuda else "CPU mode: no CUDA graph, nothing captured",
        "num_envs": args.envs,
        "joints": JOINTS,
        "model": os.path.basename(go2_starter_path()),
        "gru_pd_backend": "warp" if device.is_cuda else "torch",
        "versions": {"warp": wp.__version__, "torch": torch.__version__},
        "per_call": rows,
        "graph_check": checks,
        "graph_check_pass": all(c["pass"] for c in checks),
        "gru_pd_us_per_step_best_graph": best,
        "goal_us_per_call": GOAL_US_PER_CALL,
        "goal_us_met": best <= GOAL_US_PER_CALL if device.is_cuda else None,
    }
    if args.skip_env:
        result["env"] = {"skipped": "--skip-env"}
    else:
        result["env"] = env_part(args, device, start + args.budget_s)
        if "rows" in result["env"]:
            bench_env.print_table(result["env"]["rows"], f"(b) Go2 flat env-steps/s on {device}, native path")
        else:
            print(f"\n(b) env part failed: {result['env']['error'][-2000:]}")
    result["wall_s"] = time.monotonic() - start
    atomic_write_json(args.out, result, indent=1)
    print(f"\nwall time {result['wall_s']:.0f} s; JSON: {args.out}")
    failed = not result["graph_check_pass"] or "error" in result["env"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

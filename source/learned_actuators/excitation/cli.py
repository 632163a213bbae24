"""Command line of ``scripts/excite_go2.py``: plan, run on a backend, write the session log, say what to run next."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import logging
import sys
from pathlib import Path

from ..errors import UserInputError
from .log_writer import COLUMN_MAP_FILE, write_session
from .overrides import compose_session_cfg
from .plan import ExcitationPlan, build_plan
from .plan_cfg import SIGNALS, ExcitationCfg

__all__ = ["main"]

EXIT_STOPPED = 1
"""Exit status when the session stopped early (a soft limit, Ctrl-C, an error); its log is still written."""


def _parser(doc: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.epilog = (
        "KEY=VALUE overrides (Hydra syntax) anywhere on the line: ExcitationCfg fields (chirp_f1_hz=3, "
        "groups=[hips,calves], amplitude.calf=0.3, kp=30 or kp.calf=30, nominal.FL_calf_joint=-1.4), "
        "sim.<field> or robot.<field> (robot.limits.position_margin=0.08)."
    )
    p.add_argument("--backend", choices=("sim", "robot"), default="sim", help="simulator (default) or a real Go2")
    p.add_argument("--groups", nargs="+", help="hips thighs calves or Go2 joint names (default: all three groups)")
    p.add_argument("--signals", nargs="+", choices=SIGNALS, help="signals per group (default: chirp steps random)")
    p.add_argument("--amplitude-scale", type=float, help="factor on every amplitude (e.g. 0.25 for a first run)")
    p.add_argument("--seed", type=int, help="seed of the steps and random targets")
    p.add_argument("--out", default="runs/excitation", help="folder of session folders (default runs/excitation)")
    p.add_argument("--task", help="sim: Go2 task id (default: the offline flat task, DC motors)")
    p.add_argument("--network-file", help="sim: network file of a learned-actuator task")
    p.add_argument("--device", default="cpu", help="sim: device (default cpu)")
    p.add_argument("--interface", help="robot: network interface to the robot (default eth0)")
    p.add_argument("--yes", action="store_true", help="robot: skip the safety question (robot hung, e-stop ready)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and stop (nothing moves, nothing written)")
    return p


def _configs(args, overrides: list[str]) -> tuple[ExcitationCfg, object]:
    """The session's cfgs: defaults, then the flags, then the ``key=value`` overrides (Hydra), all checked."""
    backend_flags = (("--task", args.task, "sim"), ("--network-file", args.network_file, "sim"))
    for flag, value, needs in (*backend_flags, ("--interface", args.interface, "robot")):
        if value is not None and args.backend != needs:
            raise UserInputError(f"{flag} is for --backend {needs}; this run uses --backend {args.backend}.")
    given = {
        n: getattr(args, n) for n in ("groups", "signals", "amplitude_scale", "seed") if getattr(args, n) is not None
    }
    if args.backend == "sim":
        section = {"device": args.device, "task": args.task, "network_file": args.network_file}
    else:
        section = {"network_interface": args.interface}
    given[args.backend] = {k: v for k, v in section.items() if v is not None}
    return compose_session_cfg(args.backend, overrides, given)


def _print_plan(plan: ExcitationPlan) -> None:
    summary = plan.summary()
    print(f"plan: {summary['duration_s']:.1f} s at {summary['control_hz']:g} Hz, {len(plan.segments)} segments")
    for name, j in summary["joints"].items():
        print(
            f"  {name:15s} nominal {j['nominal']:+.3f}  targets [{j['target_min']:+.3f}, {j['target_max']:+.3f}] "
            f"rad (limits less margin [{j['limits_with_margin'][0]:+.3f}, {j['limits_with_margin'][1]:+.3f}])  "
            f"peak command speed {j['peak_command_speed']:.2f} rad/s  kp {j['kp']:g} kd {j['kd']:g}"
        )


def _confirm(args) -> None:
    if args.yes:
        return
    question = (
        "Real robot: is the Go2 hanging with all feet off the ground, in low-level mode (sport mode released), "
        "with nothing in reach of its legs, and an emergency stop at hand? [y/N] "
    )
    if not sys.stdin.isatty():
        raise UserInputError("--backend robot without a terminal: confirm the safety checks with --yes.")
    if input(question).strip().lower() not in ("y", "yes"):
        raise UserInputError("not confirmed; nothing was sent to the robot.")


def _run(args, plan: ExcitationPlan, backend):
    if args.backend == "sim":
        from .sim_backend import run_sim_excitation

        return run_sim_excitation(plan, backend), None
    from .robot_backend import needs_resampling, run_robot_excitation
    from .unitree_sdk import UnitreeSdkChannel, import_sdk

    sdk = import_sdk()  # a missing SDK is reported before the safety question
    _confirm(args)
    channel = UnitreeSdkChannel(backend.network_interface, backend.domain_id, sdk=sdk)
    try:
        record = run_robot_excitation(plan, backend, channel)
    finally:
        channel.close()
    return record, (backend.rate_hz if needs_resampling(record.t) else None)


def main(argv: list[str], doc: str | None = None) -> int:
    """Run ``scripts/excite_go2.py`` (``argv`` without the program name); returns the exit status."""
    overrides = [a for a in argv if "=" in a and not a.startswith("-")]
    args = _parser(doc).parse_args([a for a in argv if a not in overrides])
    cfg, backend = _configs(args, overrides)
    plan = build_plan(cfg)
    _print_plan(plan)
    if args.dry_run:
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    record, resample_hz = _run(args, plan, backend)
    session = {
        "argv": list(argv),
        "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "excitation": dataclasses.asdict(cfg),
        "backend_cfg": dataclasses.asdict(backend),
        "plan": plan.summary(),
    }
    folder = write_session(record, args.out, session, resample_hz=resample_hz)
    reason = record.info.get("stop_reason")
    print(f"session: {folder} ({len(record)} rows, {record.t[-1]:.1f} s; {reason})")
    cmap = folder / COLUMN_MAP_FILE
    print(f"inspect: python scripts/inspect_logs.py {folder} --column-map {cmap}")
    print(
        f"train:   python scripts/train_actuator.py --preset recipe_gru_pd --out runs/{Path(folder).name} "
        f"data.reader=column_map data.path={folder} data.column_map={cmap} --models gru_pd"
    )
    return 0 if reason == "completed" else EXIT_STOPPED

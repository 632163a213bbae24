"""Command line of ``scripts/excite_go2.py``: plan, run on a backend, write the session log, say what to run next."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import logging
import sys
import typing
from pathlib import Path

from ..errors import UserInputError
from .log_writer import COLUMN_MAP_FILE, write_session
from .plan import ExcitationPlan, build_plan
from .plan_cfg import SIGNALS, ExcitationCfg

__all__ = ["apply_override", "main"]

EXIT_STOPPED = 1
"""Exit status when the session stopped early (a soft limit, Ctrl-C, an error); its log is still written."""


def _parser(doc: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.epilog = "KEY=VALUE anywhere on the line: ExcitationCfg fields (amplitude.calf=0.3), sim.<field>, robot.<field>."
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


def _field(obj, name: str, where: str) -> dataclasses.Field:
    fields = {f.name: f for f in dataclasses.fields(obj)}
    if name not in fields:
        raise UserInputError(f"{where}: {type(obj).__name__} has no field '{name}'; fields: {sorted(fields)}.")
    return fields[name]


def _allows_dict(hint) -> bool:
    return typing.get_origin(hint) is dict or any(typing.get_origin(a) is dict for a in typing.get_args(hint))


def apply_override(targets: dict[str, object], item: str) -> None:
    """Apply one ``key=value`` override to the cfg objects in ``targets`` (prefix -> dataclass instance).

    Keys are ``<field>`` (the ``""`` target, the ExcitationCfg), ``<prefix>.<field>`` (``robot.rate_hz``), nested
    dataclass fields (``robot.limits.position_margin``) and ``<field>.<key>`` for a mapping field
    (``amplitude.calf=0.3``; ``kp.calf=30`` turns a single ``kp`` into one per part). Values are JSON or bare text,
    converted to the field's type and checked (errors name the key).
    """
    from ..learning.typed_cfg import coerce, parse_value
    from .go2 import PARTS

    key, sep, text = item.partition("=")
    if not sep:
        raise UserInputError(f"{item!r}: expected KEY=VALUE (e.g. amplitude.calf=0.3).")
    parts = key.split(".")
    obj = targets[""]
    if len(parts) > 1 and parts[0] in targets and parts[0]:
        obj, parts = targets[parts[0]], parts[1:]
    while len(parts) > 1 and dataclasses.is_dataclass(getattr(obj, parts[0], None)):
        obj, parts = getattr(obj, parts[0]), parts[1:]
    name = parts[0]
    _field(obj, name, key)
    hint = typing.get_type_hints(type(obj))[name]
    if len(parts) == 1:
        setattr(obj, name, coerce(parse_value(text, hint), hint, key))
        return
    if len(parts) > 2 or not _allows_dict(hint):
        raise UserInputError(f"{key}: '{name}' of {type(obj).__name__} is not a mapping; set it as {name}=VALUE.")
    current = getattr(obj, name)
    mapping = dict(current) if isinstance(current, dict) else dict.fromkeys(PARTS, current)
    mapping[parts[1]] = coerce(parse_value(text, float), float, key)
    setattr(obj, name, mapping)


def _configs(args, overrides: list[str]) -> tuple[ExcitationCfg, object]:
    cfg = ExcitationCfg()
    for name in ("groups", "signals", "amplitude_scale", "seed"):
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    if args.backend == "sim":
        from .sim_backend import SimBackendCfg

        backend = SimBackendCfg(device=args.device)
        backend.task = args.task or backend.task
        backend.network_file = args.network_file
    else:
        from .robot_backend import RobotBackendCfg

        backend = RobotBackendCfg()
        backend.network_interface = args.interface or backend.network_interface
    backend_flags = (("--task", args.task, "sim"), ("--network-file", args.network_file, "sim"))
    for flag, value, needs in (*backend_flags, ("--interface", args.interface, "robot")):
        if value is not None and args.backend != needs:
            raise UserInputError(f"{flag} is for --backend {needs}; this run uses --backend {args.backend}.")
    targets = {"": cfg, args.backend: backend}
    for item in overrides:
        other = "robot" if args.backend == "sim" else "sim"
        if item.startswith(f"{other}."):
            raise UserInputError(f"{item}: {other}.* settings are for --backend {other}; this run uses {args.backend}.")
        apply_override(targets, item)
    return cfg, backend


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

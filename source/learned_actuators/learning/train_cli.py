r"""Train, evaluate and export actuator nets from motor logs (``scripts/train_actuator.py``).

Examples::

    python scripts/train_actuator.py --demo                                  # built-in BAM demo, 3 models
    python scripts/train_actuator.py --demo --out runs/demo_short train.max_epochs=5
    python scripts/train_actuator.py --preset bam_xl330 --out runs/bam       # shared BAM logs, leave-one-trajectory-out
    python scripts/train_actuator.py --preset recipe_gru_pd data.reader=column_map data.path=logs/ \
        data.column_map=my_map.json train.max_epochs=100 --models gru_pd
    python scripts/train_actuator.py --demo --multirun train.seed=0,1,2 --out runs/seeds   # one run per seed
    python scripts/train_actuator.py --resume runs/bam                       # continue an interrupted run

Presets: ``--preset NAME`` (a shipped preset: the Hydra config group ``preset`` in ``learned_actuators/config/``:
bam_xl330, so101, recipe_gru_pd, recipe_lstm, recipe_mlp, demo, demo_all_folds) or ``--preset FILE`` (YAML or JSON
with ``data``/``train``/``models`` sections; ``defaults: [recipe_gru_pd, _self_]`` or ``"extends": "recipe_gru_pd"``
inherits). ``--demo`` is ``--preset demo`` on the built-in data.

Overrides are Hydra's ``key=value`` (as ``isaaclab train``): ``data.<field>``, ``train.<field>`` (every model: a
``train.*`` override also replaces the same key of a ``models.<kind>`` section that sets it, and the log says so) and
``models.<gru_pd|lstm|mlp>.<field>`` (one model; ``+models.<kind>.<field>=...`` adds a key or section the preset
does not set, ``~models.<kind>`` drops a model). Lists are ``[a,b]``. Every value is type-checked against its config
field (structured configs from the cfg dataclasses) and range-checked before any work; unknown keys are errors.
``--demo`` honours overrides; ``--resume`` refuses them. ``--multirun`` runs one job per combination of the sweeps
(``train.seed=0,1,2``, ``train.lr=0.001,0.003``), job ``k`` in ``--out``/``k`` (every job checked before the first
starts). A run needs ``data.path`` unless it reads the built-in data (``--demo`` or ``data.reader=demo``).

Output folder: a run writes into one folder, ``--out`` (default ``runs/<preset>``, ``runs/demo`` for ``--demo``).
A run never overwrites an earlier one: a folder that already holds files is refused before any work, unless
``--overwrite`` (the earlier run's files are deleted first, once every check has passed, so old and new files never
mix) or ``--resume`` (continue that very run). ``run.json`` in the folder records the command and the resolved
settings. Every output (checkpoints, ``best.pt``, exports, ``results.json``, metrics, plots) is written atomically:
a run killed at any moment leaves the previous version of each file readable. ``--resume RUN`` continues an
interrupted run with the settings of its ``run.json`` (no other options or overrides): every fold continues from its
last ``checkpoint.pt`` and the result is the one of an uninterrupted run; a ``--multirun`` job is resumed by its own
folder. Mistakes print one line naming the file or field and exit with status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ..data.cleaning import cleaning_record
from ..errors import UserInputError
from .cfg_checks import model_types
from .data_loading import check_data_path, load_data, splits_of
from .evaluation import results_text
from .outputs import check_out_dir, finish_run_file, read_run_file, start_out_dir
from .pipeline import run_preset
from .presets import build_cfg, compose_preset, sweep_jobs

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="train GRU-PD, LSTM and MLP on the built-in demo data")
    parser.add_argument("--preset", help="shipped preset name (group preset: bam_xl330, so101, recipe_*) or a file")
    parser.add_argument("--out", default=None, help="run folder (default runs/<preset>); must be new or empty")
    parser.add_argument("--overwrite", action="store_true", help="delete the earlier run in --out first")
    parser.add_argument("--resume", metavar="RUN", help="continue the interrupted run in folder RUN")
    parser.add_argument("--models", nargs="+", default=None, help="model types to train (gru_pd lstm mlp)")
    parser.add_argument("--no-export", action="store_true", help="skip TorchScript/ONNX export")
    parser.add_argument("-m", "--multirun", action="store_true", help="one job per sweep value (train.seed=0,1,2)")
    parser.add_argument("overrides", nargs="*", help="Hydra key=value overrides, e.g. train.max_epochs=50")
    return parser


def _check_models(models: list[str] | None) -> None:
    for name in models or []:
        if name not in model_types():
            raise UserInputError(f"--models {name}: unknown model type; expected {', '.join(model_types())}.")


def _check_inputs_outside(out: Path, presets: list[dict], preset_arg: str | None) -> None:
    """``--overwrite`` must never delete an input (a preset or logs kept inside the old run folder)."""
    root = out.resolve()
    candidates = [preset_arg] + [p["data"].get(k) for p in presets for k in ("path", "column_map")]
    for path in (Path(p) for p in candidates if isinstance(p, str) and Path(p).exists()):
        resolved = path.resolve()
        if resolved == root or root in resolved.parents:
            raise UserInputError(f"--overwrite {out}: the input {path} lies inside it; give another --out.")


def _resume(args) -> int:
    given = (
        ("--demo", args.demo),
        ("--preset", args.preset),
        ("--models", args.models),
        ("--no-export", args.no_export),
        ("--overwrite", args.overwrite),
        ("--multirun", args.multirun),
        ("overrides " + " ".join(args.overrides), args.overrides),
    )
    extra = [flag for flag, value in given if value]
    if extra:
        raise UserInputError(
            f"--resume {args.resume} continues the run with its own settings (its run.json); drop {', '.join(extra)}."
        )
    run = Path(args.resume)
    if args.out is not None and Path(args.out).resolve() != run.resolve():
        raise UserInputError(f"--out {args.out}: --resume writes into the run's own folder {run}; drop --out.")
    info = read_run_file(run)
    if "multirun" in info:
        raise UserInputError(f"--resume {run}: a --multirun sweep; resume each unfinished job: --resume {run}/<job>.")
    preset, models, export = info.get("preset"), info.get("models"), info.get("export", True)
    if not isinstance(preset, dict):
        raise UserInputError(f"{run / 'run.json'}: has no 'preset' settings; cannot resume this run.")
    try:
        data_cfg, train_cfg = build_cfg(preset)
    except UserInputError as err:
        raise UserInputError(f"{run / 'run.json'}: {err}") from err
    check_out_dir(run, overwrite=True, flag="--resume")  # writable
    logs = load_data(data_cfg)
    splits_of(logs, data_cfg, train_cfg.seed)
    rows = run_preset(preset, run, models=models, export=export, logs=logs, resume=True)
    finish_run_file(run, resumed=True)
    print(results_text(rows))
    print(f"\nresults: {run}/results.json (resumed)")
    return 0


def _loaded(preset: dict, cache: dict) -> list:
    """The runs of ``preset`` (read once per distinct data section), its splits checked against them."""
    key = json.dumps(preset["data"], sort_keys=True)
    if key not in cache:
        cache[key] = load_data(build_cfg(preset)[0])
    data_cfg, train_cfg = build_cfg(preset)
    splits_of(cache[key], data_cfg, train_cfg.seed)  # data.test_groups against the loaded groups, before training
    return cache[key]


def _train(out: Path, preset: dict, logs: list, args, record: dict, overwrite: bool) -> None:
    """One run into ``out``: ``run.json``, training, results; prints the table."""
    record = {**record, "preset": preset, "models": args.models, "export": not args.no_export}
    record["cleaning"] = cleaning_record(logs)  # the column map's glitch removal and resampling, per run
    start_out_dir(out, overwrite, record)
    rows = run_preset(preset, out, models=args.models, export=not args.no_export, logs=logs)
    finish_run_file(out)
    print(results_text(rows))
    print(f"\nresults: {out}/results.json\nresolved preset:\n{json.dumps(preset, indent=1)}")


def main(argv: list[str]) -> int:
    """Command line (``argv`` without the program name); returns the exit status."""
    args = _parser().parse_args(argv)
    if args.models:  # `--models a b key=value`: nargs="+" also takes the overrides that follow
        args.overrides += [m for m in args.models if "=" in m]
        args.models = [m for m in args.models if "=" not in m] or None
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.resume:
        return _resume(args)
    if args.demo and args.preset:
        raise UserInputError(f"give --demo or --preset {args.preset}, not both (--demo is its own preset).")
    if not args.demo and not args.preset:
        raise UserInputError("give --preset NAME (a shipped preset or a YAML/JSON file), --demo, or --resume RUN.")
    source = "--demo preset" if args.demo else f"preset {args.preset}"
    jobs = sweep_jobs(args.overrides) if args.multirun else [list(args.overrides)]
    presets = [compose_preset("demo" if args.demo else args.preset, job, label=f"{source}: ") for job in jobs]
    _check_models(args.models)
    for preset in presets:
        check_data_path(preset, demo=args.demo)
    name = "demo" if args.demo else Path(args.preset).name.removesuffix(".json").removesuffix(".yaml")
    out = check_out_dir(args.out or f"runs/{name}{'_multirun' if args.multirun else ''}", args.overwrite)
    if args.overwrite:
        _check_inputs_outside(out, presets, args.preset)
    cache: dict = {}
    logs = [_loaded(preset, cache) for preset in presets]  # every job's data read and split before any training
    record = {"argv": argv, "source": source}
    if not args.multirun:
        _train(out, presets[0], logs[0], args, {**record, "overrides": jobs[0]}, args.overwrite)
        return 0
    sweep = [{"job": k, "folder": str(k), "overrides": job} for k, job in enumerate(jobs)]
    start_out_dir(out, args.overwrite, {**record, "multirun": sweep})
    for k, (job, preset) in enumerate(zip(jobs, presets, strict=True)):
        print(f"\n== job {k} of {len(jobs)} ({' '.join(job) or 'no overrides'}): {out / str(k)} ==", flush=True)
        _train(out / str(k), preset, logs[k], args, {**record, "overrides": job, "multirun_job": k}, False)
    finish_run_file(out)
    return 0

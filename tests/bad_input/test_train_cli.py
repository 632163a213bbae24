# ruff: noqa: E501  (the case table keeps one case per line)
"""Bad input to the training and validation command lines: refused with one clear line, nothing changed.

Scripts: ``scripts/train_actuator.py`` (most cases), ``scripts/demo.py`` and ``scripts/validate_actuator.py``. Every
case runs ``main(argv)`` in-process through :func:`~learned_actuators.errors.run_cli` and asserts a non-zero exit,
no traceback, a message naming the file/field, and that the inputs (logs, preset) and an earlier run's outputs are
byte-for-byte unchanged. The kind in each id is how the case behaved before the fix (see ``harness.py``): ``silent``
(accepted: trained anyway, ignoring or misreading the value), ``crash`` (a traceback or an unclear error, often
after minutes of work), ``dataloss`` (an earlier run's files overwritten) or ``clear`` (already refused clearly).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.bad_input.harness import assert_refused, assert_unchanged, case, load_script, run_main, snapshot

pytestmark = pytest.mark.unit

# ------------------------------------------------------------------------------------------------- workspace


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Bench logs, a preset reading them and an earlier run folder (as the CLI leaves it), built once."""
    from tests.learning.cli_data import write_bench_data, write_preset

    root = tmp_path_factory.mktemp("bad_train_cli")
    data = write_bench_data(root, duration=0.6)
    write_preset(root, data)
    earlier = root / "earlier"
    for rel, text in {
        "run.json": json.dumps({"status": "finished", "preset": {}}),
        "results.json": "[]",
        "report.html": "<html>earlier report</html>",
        "metrics.json": "{}",
        "train/results.json": "[]",
        "train/gru_pd/up_and_down/config.json": "{}",
        "gru_pd/heavy/config.json": "{}",
        "gru_pd/up_and_down/config.json": "{}",
        "gru_pd/heavy/best.pt": "earlier weights",
        "export/gru_pd.pt": "earlier export",
    }.items():
        (earlier / rel).parent.mkdir(parents=True, exist_ok=True)
        (earlier / rel).write_text(text)
    return root


@pytest.fixture
def ws(template, tmp_path) -> dict[str, Path]:
    root = tmp_path / "ws"
    shutil.copytree(template, root)
    preset = json.loads((root / "preset.json").read_text())
    preset["data"]["path"] = str(root / "bench")
    (root / "preset.json").write_text(json.dumps(preset))
    return {"tmp": root, "data": root / "bench", "preset": root / "preset.json", "earlier": root / "earlier"}


def _write(ws, name: str, text: str) -> Path:
    path = ws["tmp"] / name
    path.write_text(text)
    return path


def _preset_with(ws, name: str, **sections) -> Path:
    preset = json.loads(ws["preset"].read_text())
    for section, values in sections.items():
        preset.setdefault(section, {}).update(values) if isinstance(values, dict) else preset.update({section: values})
    return _write(ws, name, json.dumps(preset))


PREPS = {
    "bad_json": lambda ws: {"bad": _write(ws, "bad.json", '{"train": {"max_epochs": 3,')},
    "list_json": lambda ws: {"bad": _write(ws, "list.json", "[1, 2]")},
    "typed_preset": lambda ws: {"bad": _preset_with(ws, "typed.json", train={"max_epochs": "ten"})},
    "section_preset": lambda ws: {"bad": _preset_with(ws, "section.json", trainer={"lr": 0.1})},
    "extends_preset": lambda ws: {"bad": _write(ws, "ext.json", json.dumps({"extends": "no_such_recipe"}))},
    "model_preset": lambda ws: {"bad": _preset_with(ws, "models.json", models={"lstm": {"hidden_size": 8}})},
    "no_path_preset": lambda ws: {"bad": _write(ws, "nopath.json", json.dumps({"data": {"reader": "bench_csv"}}))},
    "file": lambda ws: {"file": _write(ws, "a_file.txt", "not a folder")},
    "foreign": lambda ws: _foreign(ws),
    "network": lambda ws: {"net": _write(ws, "net.pt", "not a network")},
}


def _foreign(ws) -> dict:
    folder = ws["tmp"] / "foreign"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    return {"foreign": folder}


def _read_only_target(ws) -> Path:
    if os.geteuid() != 0:
        folder = ws["tmp"] / "read_only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder / "out"
    sysfs = Path("/sys/learned_actuators_out")  # root writes everywhere but on read-only file systems
    if not Path("/sys").is_dir() or (os.access("/sys", os.W_OK) and _writable("/sys")):
        pytest.skip("no read-only folder available to root here")
    return sysfs


def _writable(folder: str) -> bool:
    import tempfile

    try:
        fd, name = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


# ------------------------------------------------------------------------------------------------------ cases
T = "train_actuator"
PRESET = ["--preset", "{preset}", "--out", "{tmp}/new_run"]
DEMO = ["--demo", "--out", "{tmp}/new_run"]


def c(kind: str, name: str, script: str, argv: list[str], names: list[str], prep: str | None = None):
    """A case: ``script``'s ``main(argv)`` must refuse naming ``names`` (``{placeholders}`` filled per test)."""
    return case(kind, name, script, argv, names, prep)


CASES = [
    # ---- override values: type and range of the cfg field
    c("crash", "max_epochs-not-an-integer", T, [*PRESET, "train.max_epochs=abc"], ["train.max_epochs", "integer"]),
    c("crash", "lr-not-a-number", T, [*PRESET, "train.lr=fast"], ["train.lr", "number"]),
    c("silent", "max_epochs-zero", T, [*PRESET, "train.max_epochs=0"], ["train.max_epochs", ">= 1"]),
    c("crash", "max_epochs-fractional", T, [*PRESET, "train.max_epochs=2.5"], ["train.max_epochs", "integer"]),
    c("silent", "batch_size-negative", T, [*PRESET, "train.batch_size=-4"], ["train.batch_size", ">= 1"]),
    c("crash", "frames_per_batch-zero", T, [*PRESET, "train.frames_per_batch=0", "--models", "mlp"], ["train.frames_per_batch"]),
    c("crash", "lr-negative", T, [*PRESET, "train.lr=-0.001"], ["train.lr", "> 0"]),
    c("crash", "lr-nan", T, [*PRESET, "train.lr=NaN"], ["train.lr"]),
    c("crash", "weight_decay-negative", T, [*PRESET, "train.weight_decay=-1"], ["train.weight_decay"]),
    c("silent", "patience-zero", T, [*PRESET, "train.patience=0"], ["train.patience"]),
    c("crash", "val_ratio-above-one", T, [*PRESET, "train.val_ratio=1.5"], ["train.val_ratio", "< 1"]),
    c("crash", "ema_decay-one", T, [*PRESET, "train.ema_decay=1.0"], ["train.ema_decay"]),
    c("crash", "lr_schedule-unknown", T, [*PRESET, "train.lr_schedule=linear"], ["train.lr_schedule", "cosine"]),
    c("crash", "model_type-unknown", T, [*PRESET, "train.model_type=transformer"], ["train.model_type", "gru_pd"]),
    c("crash", "gru-hidden_size-zero", T, [*PRESET, "train.gru.hidden_size=0"], ["train.gru.hidden_size"]),
    c("silent", "gru-mode-typo", T, [*PRESET, "train.gru.mode=residul"], ["train.gru.mode", "residual"]),
    c("crash", "gru-feature-unknown", T, [*PRESET, 'train.gru.features=["qd","speed"]'], ["train.gru.features", "speed"]),
    c("crash", "gru-features-empty", T, [*PRESET, "train.gru.features=[]"], ["train.gru.features", "empty"]),
    c("crash", "mlp-activation-unknown", T, [*PRESET, "train.mlp.activation=sigmoid", "--models", "mlp"], ["train.mlp.activation"]),
    c("crash", "lstm-dropout-above-one", T, [*PRESET, "train.lstm.dropout=2", "--models", "lstm"], ["train.lstm.dropout"]),
    c("crash", "seq_len-zero", T, [*PRESET, "train.seq_len_s=0"], ["train.seq_len_s", "> 0"]),
    c("silent", "progress-not-a-bool", T, [*PRESET, "train.progress=maybe"], ["train.progress", "true or false"]),
    c("crash", "checkpoint_every-zero", T, [*PRESET, "train.checkpoint_every=0"], ["train.checkpoint_every"]),
    c("silent", "num_threads-zero", T, [*PRESET, "train.num_threads=0"], ["train.num_threads"]),
    c("silent", "physics-kd-negative", T, [*PRESET, "train.physics.kd=-0.1"], ["train.physics.kd"]),
    c("silent", "rollout-horizon-negative", T, [*PRESET, "train.rollout_loss.horizon_s=-1"], ["train.rollout_loss.horizon_s"]),
    c("silent", "physics-fit_params-unknown", T, [*PRESET, 'train.physics.fit_params=["kq"]'], ["train.physics.fit_params", "kq"]),
    c("crash", "seed-fractional", T, [*PRESET, "train.seed=1.5"], ["train.seed", "integer"]),
    # ---- override keys
    c("crash", "train-key-unknown", T, [*PRESET, "train.max_epoch=5"], ["max_epoch", "max_epochs"]),
    c("crash", "nested-key-unknown", T, [*PRESET, "train.gru.hidden=3"], ["train.gru", "hidden"]),
    c("crash", "section-unknown", T, [*PRESET, "trian.max_epochs=5"], ["trian", "train"]),
    c("crash", "model-section-unknown", T, [*PRESET, "models.transformer.max_epochs=3"], ["models.transformer"]),
    c("crash", "model-key-unknown", T, [*PRESET, "models.lstm.max_epoch=3"], ["models.lstm", "max_epoch"]),
    c("crash", "override-without-value", T, [*PRESET, "train.max_epochs"], ["train.max_epochs", "key=value"]),
    c("crash", "scalar-has-no-fields", T, [*PRESET, "train.lr.value=3"], ["train.lr", "value"]),
    c("clear", "sweep-without-multirun", T, [*PRESET, "train.seed=0,1"], ["train.seed=0,1", "--multirun"]),
    c("clear", "multirun-one-job-mistyped", T, [*PRESET, "--multirun", "train.max_epochs=1,abc"], ["train.max_epochs=abc", "integer"]),
    c("clear", "preset-as-override", T, [*PRESET, "preset=so101"], ["preset=", "--preset"]),
    c("clear", "model-section-not-in-preset", T, [*PRESET, "models.mlp.lr=0.01"], ["models.mlp.lr", "+models.mlp.lr"]),
    # ---- data settings
    c("crash", "test_groups-not-a-group", T, [*PRESET, "data.test_groups=[medium]"], ["data.test_groups", "medium", "heavy", "light"]),
    c("silent", "test_groups-one-unknown", T, [*PRESET, 'data.test_groups=["light","medium"]'], ["data.test_groups", "medium", "heavy"]),
    c("silent", "test_groups-without-group-split", T, [*PRESET, "data.split=runs", "data.test_groups=[light]"], ["data.test_groups", "data.split"]),
    c("crash", "split-unknown", T, [*PRESET, "data.split=folds"], ["data.split", "groups"]),
    c("crash", "reader-unknown", T, [*PRESET, "data.reader=excel"], ["data.reader", "bench_csv"]),
    c("crash", "ratios-not-three", T, [*PRESET, "data.split=runs", "data.ratios=[0.5,0.5]"], ["data.ratios"]),
    c("silent", "max_runs-zero", T, [*PRESET, "data.max_runs=0"], ["data.max_runs"]),
    c("crash", "group_key-missing", T, [*PRESET, "data.group_key=motor"], ["data.group_key=motor", "motor"]),
    c("crash", "data-path-missing", T, [*PRESET, "data.path={tmp}/no_such_logs"], ["data.path", "no_such_logs"]),
    c("silent", "recipe-without-data-path", T, ["--preset", "recipe_mlp", "--out", "{tmp}/new_run"], ["data.path", "--demo"]),
    c("silent", "data-path-without-reader", T, ["--preset", "recipe_mlp", "--out", "{tmp}/r", "data.path={data}"], ["data.reader", "data.path"]),
    c("crash", "reader-without-data-path", T, ["--preset", "{bad}", "--out", "{tmp}/r"], ["data.path"], "no_path_preset"),
    # ---- preset files
    c("crash", "preset-not-found", T, ["--preset", "{tmp}/missing.json"], ["missing.json", "shipped preset"]),
    c("crash", "preset-invalid-json", T, ["--preset", "{bad}", "--out", "{tmp}/r"], ["bad.json", "not valid JSON"], "bad_json"),
    c("crash", "preset-not-an-object", T, ["--preset", "{bad}", "--out", "{tmp}/r"], ["list.json", "JSON object"], "list_json"),
    c("crash", "preset-value-wrong-type", T, ["--preset", "{bad}", "--out", "{tmp}/r"], ["typed.json", "train.max_epochs", "integer"], "typed_preset"),
    c("crash", "preset-section-unknown", T, ["--preset", "{bad}", "--out", "{tmp}/r"], ["section.json", "trainer"], "section_preset"),
    c("crash", "preset-extends-unknown", T, ["--preset", "{bad}", "--out", "{tmp}/r"], ["ext.json", "no_such_recipe"], "extends_preset"),
    c("crash", "preset-model-key-unknown", T, ["--preset", "{bad}", "--out", "{tmp}/r"], ["models.json", "models.lstm", "hidden_size"], "model_preset"),
    # ---- modes and flags
    c("crash", "models-unknown", T, [*PRESET, "--models", "transformer"], ["--models", "transformer", "gru_pd"]),
    c("silent", "demo-and-preset", T, [*DEMO, "--preset", "bam_xl330"], ["--demo", "--preset"]),
    c("clear", "neither-demo-nor-preset", T, ["--out", "{tmp}/new_run"], ["--preset", "--demo"]),
    c("silent", "demo-override-not-an-integer", T, [*DEMO, "train.max_epochs=abc"], ["train.max_epochs", "integer"]),
    c("silent", "demo-override-unknown-key", T, [*DEMO, "train.epochs=3"], ["train", "epochs", "max_epochs"]),
    c("silent", "demo-test_groups-not-a-group", T, [*DEMO, "data.test_groups=[down_only]"], ["data.test_groups", "down_only", "up_and_down"]),
    c("silent", "demo-models-unknown", T, [*DEMO, "--models", "gru"], ["--models", "gru", "gru_pd"]),
    # ---- output folders
    c("dataloss", "out-holds-an-earlier-run", T, ["--preset", "{preset}", "--out", "{earlier}"], ["--out", "earlier", "--overwrite"]),
    c("dataloss", "demo-out-holds-an-earlier-run", T, ["--demo", "--out", "{earlier}"], ["--out", "earlier", "--overwrite"]),
    c("crash", "out-is-a-file", T, ["--preset", "{preset}", "--out", "{file}"], ["--out", "a_file.txt", "not a folder"], "file"),
    c("crash", "out-below-a-file", T, ["--preset", "{preset}", "--out", "{file}/run"], ["a_file.txt", "which is a file"], "file"),
    c("crash", "out-read-only", T, ["--preset", "{preset}", "--out", "{readonly}"], ["--out", "not writable"], "readonly"),
    c("clear", "overwrite-foreign-folder", T, ["--preset", "{preset}", "--out", "{foreign}", "--overwrite"], ["foreign", "run folders"], "foreign"),
    c("clear", "resume-not-a-run", T, ["--resume", "{tmp}/bench"], ["--resume", "bench", "run.json"]),
    c("clear", "resume-with-overrides", T, ["--resume", "{earlier}", "train.max_epochs=3"], ["--resume", "train.max_epochs=3"]),
    # ---- scripts/demo.py
    c("dataloss", "main-demo-out-holds-an-earlier-run", "demo", ["--out", "{earlier}"], ["--out", "earlier", "--overwrite"]),
    c("crash", "main-demo-out-is-a-file", "demo", ["--out", "{file}"], ["--out", "a_file.txt"], "file"),
    # ---- scripts/validate_actuator.py
    c("dataloss", "validate-out-holds-an-earlier-run", "validate_actuator", ["--demo", "--out", "{earlier}"], ["--out", "earlier"]),
    c("silent", "validate-demo-drops-overrides", "validate_actuator", ["--demo", "--out", "{tmp}/v", "decimation=2"], ["--demo", "decimation=2"]),
    c("crash", "validate-network-file-missing", "validate_actuator", ["--demo", "--out", "{tmp}/v", "--network-file", "{tmp}/nope.pt"], ["--network-file", "nope.pt"]),
    c("crash", "validate-override-not-an-integer", "validate_actuator", ["--data", "{data}", "--column-map", "bam_json", "decimation=abc"], ["decimation", "integer"]),
    c("clear", "validate-override-unknown", "validate_actuator", ["--data", "{data}", "--column-map", "bam_json", "decimate=2"], ["decimate"]),
    c("crash", "validate-network-missing", "validate_actuator", ["--data", "{data}", "--column-map", "bam_json", "--network", "{tmp}/nope.pt"], ["--network", "nope.pt"]),
]  # fmt: skip

_SCRIPTS: dict[str, object] = {}


def _main(script: str):
    if script not in _SCRIPTS:
        _SCRIPTS[script] = load_script(script).main
    return _SCRIPTS[script]


def _fill(text: str, values: dict) -> str:
    return text.format(**{k: str(v) for k, v in values.items()})


@pytest.mark.parametrize(("script", "argv", "names", "prep"), CASES)
def test_refused_and_nothing_changed(script, argv, names, prep, ws, capsys):
    values = dict(ws)
    if prep == "readonly":
        values["readonly"] = _read_only_target(ws)
    elif prep:
        values.update(PREPS[prep](ws))
    before = snapshot(ws["tmp"])
    outcome = run_main(_main(script), [_fill(a, values) for a in argv], capsys)
    assert_refused(outcome, *[_fill(n, values) for n in names])
    assert sum("error" in line for line in outcome.err.splitlines()) == 1, outcome.err  # one message
    assert_unchanged(before, ws["tmp"])

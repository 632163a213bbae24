"""Run folders and output files of ``scripts/train_actuator.py``: atomic writes, kills, full disk, resume, overwrite."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.bad_input.harness import run_main
from tests.conftest import REPO_ROOT
from tests.learning.cli_data import write_bench_data, write_preset

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def cli():
    from tests.bad_input.harness import load_script

    return load_script("train_actuator").main


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    return write_bench_data(tmp_path_factory.mktemp("bench_data"))


def _state(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def _results(run: Path) -> list[dict]:
    rows = json.loads((run / "results.json").read_text())
    for row in rows:  # wall-clock times differ between runs
        row.pop("train_time_s")
        for split in row["per_split"].values():
            split.pop("train_time_s", None)
    return rows


def _max_weight_diff(a: Path, b: Path) -> float:
    sa, sb = _state(a)["state_dict"], _state(b)["state_dict"]
    assert sa.keys() == sb.keys()
    return max(float((sa[k].double() - sb[k].double()).abs().max()) for k in sa)


def _check_readable(folder: Path) -> int:
    """Every (non-temporary) output under ``folder`` loads; returns how many ``.pt`` files were loaded."""
    loaded = 0
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix == ".pt" and path.parent.name == "export":
            torch.jit.load(str(path))
            loaded += 1
        elif path.suffix == ".pt":
            state = _state(path)
            assert isinstance(state, dict) and state, path
            loaded += 1
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".png":
            assert path.read_bytes().startswith(b"\x89PNG"), path
        elif path.suffix == ".onnx":
            import onnx

            onnx.load(str(path))
    return loaded


def test_kills_at_any_moment_leave_readable_files_and_resume_matches(tmp_path, bench):
    """≥ 10 SIGKILL/SIGTERM at varied moments; every file present loads; resuming gives the uninterrupted result."""
    preset = write_preset(tmp_path, bench, max_epochs=4, checkpoint_every=1, plots=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    subprocess.run(
        [sys.executable, "-m", "tests.learning.kill_driver", str(tmp_path), str(preset), "10", "7"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    log = json.loads((tmp_path / "kills.json").read_text())
    assert log["reference"].get("exit") == 0 and log["final"].get("exit") == 0, log
    for kill in log["kills"]:  # killed, stopped by SIGTERM (exit 143 after cleaning up) or finished before the kill
        assert kill.get("signal") in (signal.SIGKILL, signal.SIGTERM) or kill.get("exit") in (0, 143), kill
    killed = [k for k in log["kills"] if k.get("exit") != 0]
    assert len(killed) >= 10 and {k["signal"] for k in killed} == {signal.SIGKILL, signal.SIGTERM}, log["kills"]
    snapshots = sorted((tmp_path / "snapshots").iterdir())
    assert sum(_check_readable(s) for s in snapshots) > 0
    ref = tmp_path / "reference"
    for name in log["runs"]:  # every run, however often killed and resumed, ends as the uninterrupted one
        run = tmp_path / name
        assert not list(run.rglob(".*.partial*")), f"temporary files left in {run}"
        assert json.loads((run / "run.json").read_text())["status"] == "finished"
        assert _results(run) == _results(ref)
        for split in ("light", "heavy"):
            assert _max_weight_diff(run / "gru_pd" / split / "best.pt", ref / "gru_pd" / split / "best.pt") == 0.0


@pytest.mark.parametrize("jobs", [1, 2])
def test_resume_after_an_interruption_equals_an_uninterrupted_run(tmp_path, bench, cli, capsys, monkeypatch, jobs):
    """Train 6 epochs straight vs. interrupted after 3 epochs of the second fold and resumed: identical results.

    With two jobs each worker process counts its own epochs: the first to reach its tenth stops the run.
    """
    from learned_actuators.learning import trainer

    preset = write_preset(tmp_path, bench, max_epochs=6, checkpoint_every=1, ema_decay=0.9)
    argv = ["--preset", preset, "--models", "gru_pd", "lstm", "--no-export", "train.lstm.hidden_size=8"]
    argv.append(f"train.jobs={jobs}")
    assert run_main(cli, [*argv, "--out", tmp_path / "straight"], capsys).status == 0

    real_epoch = trainer._train_epoch
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6 + 4:  # first fold done, 3 epochs of the second one
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(trainer, "_train_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_main(cli, [*argv, "--out", tmp_path / "part"], capsys)
    monkeypatch.setattr(trainer, "_train_epoch", real_epoch)
    part = tmp_path / "part"
    assert not (part / "results.json").exists()
    stopped = {
        f"{m}/{s}": _state(f)["epoch"] if (f := part / m / s / "checkpoint.pt").is_file() else None
        for m in ("gru_pd", "lstm")
        for s in ("heavy", "light")
    }
    if jobs == 1:  # one fit after another: the second GRU-PD fold stopped, the LSTM not started
        assert stopped == {"gru_pd/heavy": 5, "gru_pd/light": 2, "lstm/heavy": None, "lstm/light": None}
    else:  # a worker stopped in its second fit, the other one with it (wherever it was)
        assert stopped["gru_pd/heavy"] == stopped["gru_pd/light"] == 5
        assert {stopped["lstm/heavy"], stopped["lstm/light"]} <= {0, 1, 2, None} and 2 in stopped.values()
    outcome = run_main(cli, ["--resume", part], capsys)
    assert outcome.status == 0, outcome.err
    straight = tmp_path / "straight"
    assert _results(part) == _results(straight)
    for model in ("gru_pd", "lstm"):
        for split in ("light", "heavy"):
            a, b = part / model / split, straight / model / split
            assert _max_weight_diff(a / "best.pt", b / "best.pt") == 0.0
            ma, mb = json.loads((a / "metrics.json").read_text()), json.loads((b / "metrics.json").read_text())
            ma.pop("wall_time_s"), mb.pop("wall_time_s")
            assert ma == mb
            ha, hb = _state(a / "checkpoint.pt")["history"], _state(b / "checkpoint.pt")["history"]
            np.testing.assert_array_equal(ha["train_loss"], hb["train_loss"])


def test_full_disk_names_the_file_and_keeps_the_previous_best(tmp_path, bench, cli, capsys, monkeypatch):
    """ENOSPC while rewriting best.pt (resuming a run stopped before its metrics.json): a clear error naming the file,
    the previous best.pt intact, no temporary file."""
    import learned_actuators.learning.checkpoints as checkpoints
    from learned_actuators.atomic_io import atomic_write

    preset = write_preset(tmp_path, bench, max_epochs=1)
    out = tmp_path / "out"
    assert run_main(cli, ["--preset", preset, "--models", "gru_pd", "--no-export", "--out", out], capsys).status == 0
    best = out / "gru_pd" / "heavy" / "best.pt"
    before = best.read_bytes()
    (best.parent / "metrics.json").unlink()  # as if killed between best.pt and metrics.json: resume rewrites both
    real_save = checkpoints.torch_save_atomic

    def full_disk(obj, path):
        if Path(path).name != "best.pt":
            return real_save(obj, path)
        with atomic_write(path, "wb") as f:
            f.write(b"half a checkpoint")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoints, "torch_save_atomic", full_disk)
    outcome = run_main(cli, ["--resume", out], capsys)
    assert outcome.status == 2, outcome
    assert str(best) in outcome.err and "disk is full" in outcome.err and "Traceback" not in outcome.err
    assert best.read_bytes() == before and _state(best)["model_type"] == "gru_pd"
    assert not list(out.rglob(".*.partial*"))


def test_a_run_never_overwrites_an_earlier_one(tmp_path, bench, cli, capsys):
    preset = write_preset(tmp_path, bench, max_epochs=1)
    out = tmp_path / "out"
    assert run_main(cli, ["--preset", preset, "--models", "mlp", "--no-export", "--out", out], capsys).status == 0
    first = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    refused = run_main(cli, ["--preset", preset, "--models", "gru_pd", "--out", out], capsys)
    assert refused.status == 2 and "already holds files" in refused.err and "--overwrite" in refused.err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == first
    assert run_main(cli, ["--preset", preset, "--models", "gru_pd", "--out", out, "--overwrite"], capsys).status == 0
    assert not (out / "mlp").exists(), "files of the earlier run mixed with the new one"
    assert (out / "gru_pd" / "heavy" / "best.pt").is_file() and (out / "export" / "gru_pd.pt").is_file()
    assert [r["model"] for r in json.loads((out / "results.json").read_text())] == ["gru_pd", "pd_friction_lsq"]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    refused = run_main(cli, ["--preset", preset, "--out", foreign, "--overwrite"], capsys)
    assert refused.status == 2 and "deletes only run folders" in refused.err
    assert (foreign / "notes.txt").read_text() == "mine"


def test_demo_honours_overrides(tmp_path, cli, capsys):
    argv = ["--demo", "--models", "mlp", "--no-export", "--out", tmp_path / "demo", "train.max_epochs=1"]
    argv += ["train.progress=false", "train.plots=false", "train.tensorboard=false", "data.max_runs=8"]
    outcome = run_main(cli, argv, capsys)
    assert outcome.status == 0, outcome.err
    configs = sorted((tmp_path / "demo" / "mlp" / "up_and_down").glob("kp*/config.json"))  # one net per gain
    assert configs
    for path in configs:
        config = json.loads(path.read_text())
        assert config["max_epochs"] == 1 and config["per_gain"]  # the preset's models.mlp.max_epochs=60 overridden
    run = json.loads((tmp_path / "demo" / "run.json").read_text())
    assert run["preset"]["models"]["mlp"]["max_epochs"] == 1 and run["status"] == "finished"

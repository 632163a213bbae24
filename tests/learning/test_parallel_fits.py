"""A preset's fits side by side in worker processes (``train.jobs``): same results, prerequisites, errors."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from learned_actuators.errors import UserInputError
from learned_actuators.learning import run_preset, sysid_fit
from learned_actuators.learning.parallel_fits import fit_all, job_count
from tests.conftest import REPO_ROOT
from tests.learning.conftest import make_runs, tiny_preset

pytestmark = pytest.mark.unit


def _task(task):
    """A task of the scheduling tests: ``prior`` makes a trajectory fit, the others report what they see."""
    time.sleep(0.2)  # long enough that both workers take tasks
    if task == "prior":
        sysid_fit.add_shared_fits({"test-fit": 1.5})
    return os.getpid(), sysid_fit.shared_fits().get("test-fit")


def test_tasks_run_in_workers_and_a_waiting_task_gets_its_prerequisites_fit():
    tasks = ["a", "b", "user", "prior"]
    done = []
    results = fit_all(tasks, _task, jobs=2, after={"user": "prior"}, on_done=lambda t, _: done.append(t))
    try:
        assert set(results) == set(tasks) and sorted(done) == sorted(tasks)
        pids = {pid for pid, _ in results.values()}
        assert os.getpid() not in pids and len(pids) == 2  # two worker processes, not this one
        assert done.index("user") > done.index("prior")  # it waited for its prerequisite
        assert results["user"][1] == 1.5  # and was handed the fit made in another process
        assert results["a"][1] is None  # "a" started before the fit existed
        assert sysid_fit.shared_fits()["test-fit"] == 1.5  # the fits come back to this process
    finally:
        sysid_fit.clear_shared_fits()
    assert sysid_fit.shared_fits() == {}


def test_one_job_runs_here_in_order_of_readiness():
    order = []
    results = fit_all(["user", "prior", "b"], lambda t: order.append(t) or os.getpid(), jobs=1, after={"user": "prior"})
    assert order == ["prior", "user", "b"] and set(results.values()) == {os.getpid()}
    assert job_count(None, 3) == min(3, len(os.sched_getaffinity(0))) and job_count(8, 3) == 3


def _fail(task):
    if task == "bad":
        raise UserInputError("runs/x.csv: column 'kp': expected a gain")
    return task


def test_a_user_error_in_a_worker_reaches_the_caller_with_its_message():
    with pytest.raises(UserInputError, match="column 'kp': expected a gain"):
        fit_all(["ok", "bad", "ok2"], _fail, jobs=2)


PRESET = {**tiny_preset(), "models": {"gru_pd": {}, "mlp": {"mlp": {"hidden": [8]}, "max_epochs": 2}}}


def test_a_preset_gives_the_same_rows_with_one_job_and_with_two(tmp_path):
    runs = make_runs(kps=(2.0, 4.0, 3.0, 5.0), duration=1.0)
    for log, group in zip(runs, ("a", "a", "b", "b"), strict=True):
        log.meta["group"] = group

    def rows(jobs):
        preset = {**PRESET, "train": {**PRESET["train"], "jobs": jobs}}
        return run_preset(preset, tmp_path / f"jobs{jobs}", logs=runs)

    serial, parallel = rows(1), rows(2)
    assert [r["model"] for r in serial] == ["gru_pd", "mlp", "pd_friction_lsq"]
    for one, two in zip(serial, parallel, strict=True):
        assert one["model"] == two["model"] and one["rmse"] == pytest.approx(two["rmse"], rel=1e-6)
        assert one["rollout_rmse"] == pytest.approx(two["rollout_rmse"], rel=1e-6)
        for split in ("a", "b"):
            assert one["per_split"][split]["rmse"] == pytest.approx(two["per_split"][split]["rmse"], rel=1e-6)
    assert (tmp_path / "jobs2" / "gru_pd" / "b" / "best.pt").is_file()
    assert (tmp_path / "jobs2" / "export" / "gru_pd.pt").is_file()


_KILLED_PARENT = """
import os, sys, time
from pathlib import Path
from learned_actuators.learning.parallel_fits import fit_all

def run(task):
    Path(sys.argv[1], f"worker_{task}").write_text(str(os.getpid()))
    time.sleep(120)

fit_all([0, 1], run, jobs=2)
"""


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped by its new parent, counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_die_with_a_parent_killed_without_cleanup(tmp_path):
    # SIGKILL gives the parent no chance to shut its pool down: its workers must not live on (here: mid-task)
    parent = subprocess.Popen([sys.executable, "-c", _KILLED_PARENT, str(tmp_path)], cwd=REPO_ROOT)
    workers = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            workers = [int(text) for p in tmp_path.glob("worker_*") if (text := p.read_text())]
            time.sleep(0.05)
        assert len(workers) == 2, "the two workers did not start"
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in workers), "a worker outlived its killed parent"
    finally:
        parent.kill()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

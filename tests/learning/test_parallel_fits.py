"""A preset's fits side by side in worker processes (``train.jobs``): same results, prerequisites, errors."""

import os
import time

import pytest

from learned_actuators.errors import UserInputError
from learned_actuators.learning import run_preset, sysid_fit
from learned_actuators.learning.parallel_fits import fit_all, job_count
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

"""The (row, split) fits of a preset run, in worker processes: one per CPU core, each a single-threaded training.

The nets of this package are small: one training runs on one core about as fast as on two (``train.num_threads`` is
1), so a preset's independent fits (each model and baseline on each split) run side by side, ``train.jobs`` at a time.
Each fit is seeded by its own cfg, so the results are those of the fits one after another.

Workers are forked (Linux): they inherit the runs, the splits and the fitters, and send back only what they fitted.
Trajectory fits (:mod:`.sysid_fit`, cached by runs and prior) travel with the tasks: a fit that waits for another
(the GRU-PD for the ``traj_prior`` row of its split, the same identification) starts after it, with its result.
Where ``fork`` is not available, or with one job, the fits run here, in the same order.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from tqdm.auto import tqdm

from . import sysid_fit

__all__ = ["available_cores", "fit_all", "job_count"]

Task = Hashable
"""A fit to run: what ``run`` takes (the pipeline's ``(row name, split index)``)."""

_PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal a process gets when its parent dies."""

_RUN: Callable[[Task], Any] | None = None
"""The run function of the pool being forked (workers inherit it; it is not pickled)."""


def available_cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def job_count(jobs: int | None, tasks: int) -> int:
    """Worker processes for ``tasks`` fits: ``jobs`` (None: one per available core), at most one per fit."""
    wanted = available_cores() if jobs is None else jobs
    if "fork" not in multiprocessing.get_all_start_methods():
        wanted = 1
    return max(1, min(wanted, tasks))


def _ready(pending: list[Task], after: dict[Task, Task], unfinished: set) -> Task | None:
    """The first pending task whose prerequisite (if any) is not among the ``unfinished`` ones."""
    return next((t for t in pending if after.get(t) not in unfinished), None)


def fit_all(
    tasks: Sequence[Task],
    run: Callable[[Task], Any],
    jobs: int | None = None,
    after: dict[Task, Task] | None = None,
    on_done: Callable[[Task, Any], None] | None = None,
    progress: bool = False,
) -> dict[Task, Any]:
    """``run(task)`` for every task, ``jobs`` at a time; returns the results by task.

    Args:
        tasks: In order of preference: a free worker takes the first one that is ready.
        run: The fit of one task; in a worker it runs in a forked copy of this process.
        jobs: Worker processes (None: one per available core; at most one per task; 1: here, no workers).
        after: Task -> the task it waits for (its trajectory fits are shared with it).
        on_done: Called here with each task and its result as it finishes (progress lines).
        progress: A progress bar over the tasks.
    """
    after = after or {}
    jobs = job_count(jobs, len(tasks))
    bar = tqdm(total=len(tasks), disable=not progress, desc=f"fits ({jobs} at a time)", leave=False)
    results: dict[Task, Any] = {}
    pending = list(tasks)

    def finish(task: Task, result: Any) -> None:
        results[task] = result
        bar.update(1)
        if on_done is not None:
            on_done(task, result)

    try:
        if jobs == 1:
            while pending:
                task = _ready(pending, after, set(pending))
                pending.remove(task)
                finish(task, run(task))
        else:
            _in_workers(pending, run, jobs, after, finish)
    finally:
        bar.close()
    return results


def _in_workers(pending: list[Task], run, jobs: int, after: dict[Task, Task], finish) -> None:
    """Run ``pending`` in ``jobs`` forked workers, each task with the trajectory fits made since they were forked."""
    global _RUN
    _RUN = run
    context = multiprocessing.get_context("fork")
    running: dict[Future, Task] = {}
    inherited = set(sysid_fit.shared_fits())  # the workers are forked at the first task, with these

    def new_fits() -> dict:
        return {k: v for k, v in sysid_fit.shared_fits().items() if k not in inherited}

    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)) as pool:
        try:
            while pending or running:
                while pending and len(running) < jobs:
                    task = _ready(pending, after, {*pending, *running.values()})
                    if task is None:
                        break
                    pending.remove(task)
                    running[pool.submit(_work, task, new_fits())] = task
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    task = running.pop(future)
                    result, fits = future.result()
                    sysid_fit.add_shared_fits(fits)
                    finish(task, result)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            _RUN = None


def _start_worker(parent: int) -> None:
    """A worker dies with its parent and runs torch on one thread.

    A parent killed without cleanup (SIGKILL, the OOM killer) would otherwise leave its workers waiting for tasks
    for ever: on Linux the kernel sends them SIGKILL when the parent dies (``PR_SET_PDEATHSIG``), and a worker whose
    parent died before that was set exits at once. Torch gets one thread: the nets are small, and OpenMP is not safe
    to use again after a fork.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)
    import torch

    torch.set_num_threads(1)


def _work(task: Task, fits: dict) -> tuple[Any, dict]:
    """One task in a worker: its result and the trajectory fits it made (sent back to be shared)."""
    sysid_fit.add_shared_fits(fits)
    known = set(sysid_fit.shared_fits())
    result = _RUN(task)
    return result, {k: v for k, v in sysid_fit.shared_fits().items() if k not in known}

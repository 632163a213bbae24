"""Driver of the kill test: train through the command line in forked children and kill them at many moments.

``python -m tests.learning.kill_driver WORK PRESET KILLS SEED`` imports the command line once, then forks:

1. a reference child that trains ``WORK/reference`` uninterrupted (its duration sets the kill delays);
2. children that start (or ``--resume``) ``WORK/run_<n>``, each killed with SIGKILL or SIGTERM (alternating)
   after a pseudo-random delay, until ``KILLS`` of them were stopped by their kill (at most ``3 * KILLS`` children:
   on a loaded machine a child may finish before its kill); after every kill the run folder is copied to
   ``WORK/snapshots/<i>`` as it was; a child that finished before its kill completes ``run_<n>`` and the next one
   starts ``run_<n+1>``;
3. a last child that resumes the current run to the end.

The parent never runs torch itself (forking after torch has started threads is unsafe). It writes
``WORK/kills.json`` (delay, signal, exit status of every child) for the test to check.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path


def _child(argv: list[str]) -> None:
    from learned_actuators.errors import run_cli
    from learned_actuators.learning.outputs import exit_on_sigterm

    exit_on_sigterm()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    code = 1
    try:
        code = run_cli(MAIN, argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os._exit(code)


def _start(argv: list[str]) -> int:
    pid = os.fork()
    if pid == 0:
        _child(argv)
    return pid


def _status(raw: int) -> dict:
    if os.WIFSIGNALED(raw):
        return {"signal": os.WTERMSIG(raw)}
    return {"exit": os.WEXITSTATUS(raw)}


def _wait_for_partial_files(run: Path, pid: int, count: int) -> int:
    """Poll ``run`` until the ``count``-th distinct temporary (``.*.partial*``) file appears or the child exits."""
    leftovers = {path.name for path in run.rglob(".*.partial*")} if run.exists() else set()  # of earlier kills
    seen: set[str] = set()
    while len(seen) < count:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:  # exited (not reaped)
            break
        for path in run.rglob(".*.partial*") if run.exists() else ():
            if path.name not in leftovers:
                seen.add(path.name)
        time.sleep(0.002)
    return len(seen)


def main() -> None:
    work, preset, kills, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    fresh = ["--preset", preset, "--models", "gru_pd"]
    t0 = time.perf_counter()
    _, raw = os.waitpid(_start([*fresh, "--out", str(work / "reference")]), 0)
    duration = time.perf_counter() - t0
    log = {"reference": {"seconds": duration, **_status(raw)}, "kills": [], "runs": []}
    rng = random.Random(seed)
    run = work / "run_0"
    landed, i = 0, -1
    while landed < kills and i + 1 < 3 * kills:
        i += 1
        argv = ["--resume", str(run)] if (run / "run.json").is_file() else [*fresh, "--out", str(run)]
        sig = signal.SIGKILL if i % 2 == 0 else signal.SIGTERM
        pid = _start(argv)
        if i % 4 < 2:  # after a random time: start-up, data loading, training, exports, results
            moment = {"delay_s": rng.uniform(0.05, 1.0) * duration}
            time.sleep(moment["delay_s"])
        else:  # while a file is being written: at the n-th temporary file seen
            moment = {"partial_file": rng.randint(1, 15)}
            moment["seen"] = _wait_for_partial_files(run, pid, moment["partial_file"])
        with contextlib.suppress(ProcessLookupError):  # it may have finished before its kill
            os.kill(pid, sig)
        _, raw = os.waitpid(pid, 0)
        log["kills"].append({**moment, "signal": int(sig), "run": run.name, "argv0": argv[0], **_status(raw)})
        if run.exists():
            shutil.copytree(run, work / "snapshots" / f"{i:02d}", symlinks=True)
        landed += _status(raw).get("exit") != 0
        if _status(raw).get("exit") == 0:  # this run is complete: the next kills hit a new one
            log["runs"].append(run.name)
            run = work / f"run_{len(log['runs'])}"
    argv = ["--resume", str(run)] if (run / "run.json").is_file() else [*fresh, "--out", str(run)]
    _, raw = os.waitpid(_start(argv), 0)
    log["runs"].append(run.name)
    log["final"] = _status(raw)
    (work / "kills.json").write_text(json.dumps(log, indent=1))


def _preload() -> None:
    """Import now what a run imports lazily (plots, optimiser, exporters), so every forked child starts at once."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import onnx.reference  # noqa: F401
    import torch._dynamo
    import torch.onnx
    import torch.optim.swa_utils  # noqa: F401


if __name__ == "__main__":
    from tests.bad_input.harness import load_script

    MAIN = load_script("train_actuator").main
    _preload()
    main()

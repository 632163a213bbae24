"""``benchmarks/bench_gpu.py`` keeps running: its CPU mode end to end (subprocess), JSON fields checked.

The CPU mode runs the same code as the GPU run (rig, Newton ``Actuator`` steps, graph check, timing, the Go2 env
children of ``bench_env.py``) except the CUDA-graph capture, which only exists on CUDA. Its graph check compares our
drive's Warp kernels with its torch backend over odd and even step counts, so a wrong rate phase, state mirror or
kernel fails it here too. The ``gpu`` test runs the capture itself (``pytest -m gpu`` on a CUDA machine).
"""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration

SCRIPT = REPO_ROOT / "benchmarks" / "bench_gpu.py"
GRAPH_STEPS = (1, 4, 5)
CHECK_REPLAYS = 7
NET_STEPS = 4  # the starter model's dt (0.02 s) over the physics dt (0.005 s)


def _run(tmp_path, *args, timeout=600):
    out = tmp_path / "bench.json"
    cmd = [sys.executable, str(SCRIPT), *args, "--out", str(out)]
    cmd += ["--graph-steps", *map(str, GRAPH_STEPS), "--check-replays", str(CHECK_REPLAYS)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def _check_graph_rows(result, captured):
    checks = {c["steps_per_graph"]: c for c in result["graph_check"]}
    assert sorted(checks) == list(GRAPH_STEPS)
    for steps, check in checks.items():
        assert check["captured"] is captured
        assert check["pass"] and check["state_moved"]
        assert check["phase_expected"] == (steps * CHECK_REPLAYS) % NET_STEPS
        assert max(check["max_abs_diff"].values()) <= 1e-4
    assert result["graph_check_pass"] is True


def test_cpu_mode_writes_every_figure(tmp_path):
    result, stdout = _run(tmp_path, "--device", "cpu", "--envs", "64", "--steps", "20")
    assert result["device"] == "cpu" and result["num_envs"] == 64 and result["joints"] == 12
    assert result["captured"] is False and "no CUDA graph" in result["capture_note"]
    assert "no CUDA graph exists on a CPU" in stdout and "PASS" in stdout and "FAIL" not in stdout
    _check_graph_rows(result, captured=False)
    checks = result["graph_check"]
    assert {(c["graph_backend"], c["reference_backend"]) for c in checks} == {("warp", "torch")}

    rows = {r["variant"]: r for r in result["per_call"]}
    expected = {f"{label}, graph of {k}" for k in GRAPH_STEPS for label in ("GRU-PD native", "DC motor", "inputs only")}
    expected |= {"GRU-PD native, eager", "DC motor, eager", "Python-path GRU-PD (torch)"}
    assert set(rows) == expected
    assert all(r["us_per_step"] > 0 and r["captured"] is False for r in rows.values())
    assert all(rows[f"GRU-PD native, graph of {k}"]["ratio_to_dc_motor"] > 0 for k in GRAPH_STEPS)
    assert result["goal_us_met"] is None  # the 50 us goal is a CUDA figure

    env = result["env"]
    assert "error" not in env, env
    by_actuator = {r["actuator"]: r for r in env["rows"]}
    assert set(by_actuator) == {"dc_motor", "gru_pd"}
    assert by_actuator["gru_pd"]["runs"] == "DriveGRUPD(torch)"  # the native path, our drive
    assert by_actuator["dc_motor"]["runs"] == "DrivePD"
    assert all(r["num_envs"] == 64 and r["env_steps_per_s"] > 0 for r in env["rows"])
    assert env["ratio_gru_pd_to_dc_motor"] == pytest.approx(
        by_actuator["gru_pd"]["env_steps_per_s"] / by_actuator["dc_motor"]["env_steps_per_s"]
    )
    assert env["goal_met"] == (env["ratio_gru_pd_to_dc_motor"] >= 0.95)


def test_an_existing_out_file_is_never_overwritten(tmp_path):
    out = tmp_path / "bench.json"
    out.write_text("earlier run")
    cmd = [sys.executable, str(SCRIPT), "--device", "cpu", "--envs", "4", "--skip-env", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, check=False)
    assert proc.returncode != 0 and "never overwrite" in proc.stderr
    assert out.read_text() == "earlier run"


@pytest.mark.gpu
def test_cuda_graphs_replay_the_drive_state_for_odd_and_even_step_counts(tmp_path):
    result, _ = _run(tmp_path, "--device", "cuda:0", "--envs", "4096", "--skip-env", "--rounds", "2")
    assert result["captured"] is True
    _check_graph_rows(result, captured=True)
    assert {(c["graph_backend"], c["reference_backend"]) for c in result["graph_check"]} == {("warp", "warp")}

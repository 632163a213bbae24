"""The trajectory-fitted physics in the pipeline: a baseline row fitted on training runs only, and the GRU-PD prior."""

import numpy as np
import pytest

from learned_actuators.learning import run_preset
from learned_actuators.learning.sysid_fit import clear_shared_fits
from learned_actuators.network_file import load_network
from tests.learning.conftest import COULOMB, REF_KD, make_runs, tiny_preset

pytestmark = pytest.mark.unit

PRESET = tiny_preset(
    physics={**tiny_preset()["train"]["physics"], "fit": "trajectory"}, max_epochs=1, rollout_loss={"enabled": False}
)


def _runs():
    runs = make_runs(kps=(2.0, 4.0, 3.0, 5.0), duration=1.5)
    for log, group in zip(runs, ("a", "a", "b", "b"), strict=True):
        log.meta["group"] = group
    return runs


def _fits(tmp_path, runs, name):
    fits = {}

    def on_split(model, split, fitted, _split, metrics):
        if model in ("traj_physics", "traj_prior"):
            fits[model, split] = dict(fitted.values)

    clear_shared_fits()  # each run fits anew (the second one asks whether a fit sees a change)
    rows = run_preset(PRESET, tmp_path / name, logs=runs, on_split=on_split, trajectory_baseline=True)
    return rows, fits


def test_baseline_row_uses_training_runs_only_and_prior_is_exported(tmp_path):
    runs = _runs()
    rows, fits = _fits(tmp_path, runs, "first")
    assert [r["model"] for r in rows] == ["gru_pd", "pd_friction_lsq", "ideal_pd", "traj_physics", "traj_prior"]
    for traj in rows[-2:]:
        assert traj["diverged"] == 0 and np.isfinite(traj["rollout_rmse"])
    assert set(fits) == {(m, f) for m in ("traj_physics", "traj_prior") for f in ("a", "b")}
    assert fits["traj_prior", "a"] != fits["traj_physics", "a"]  # two forms: stick-slip vs the actuator's own
    for name in ("delay", "offset", "armature"):  # the prior leaves out what the actuator cannot express
        assert fits["traj_prior", "b"][name] == 0.0
    changed = _runs()
    for log in changed:
        if log.meta["group"] == "b":  # the test runs of fold "b", training runs of fold "a"
            log.q[:, 0] += 0.05 * np.sin(np.arange(len(log)) * 0.05)
    _, fits2 = _fits(tmp_path, changed, "second")
    assert fits2["traj_physics", "b"] == fits["traj_physics", "b"]  # its training runs did not change: same fit
    assert fits2["traj_physics", "a"] != fits["traj_physics", "a"]  # a fit does see a change in its training runs

    _, meta = load_network(tmp_path / "first" / "export" / "gru_pd.pt")
    identified = meta.source["identified"]
    assert identified["values"] == pytest.approx(fits["traj_prior", "b"])  # the row is the exported model's prior
    assert meta.physics["friction_load"] == pytest.approx(identified["values"]["coulomb_load"])
    assert identified["values"]["kd"] == pytest.approx(meta.physics["kd"])
    assert identified["values"]["coulomb"] == pytest.approx(meta.physics["friction"])
    assert meta.physics["kd"] == pytest.approx(REF_KD, rel=0.5)  # the synthetic actuator's damping, roughly
    assert meta.physics["friction"] == pytest.approx(COULOMB, rel=0.5)
    assert "armature" in identified["not_in_physics_params"]

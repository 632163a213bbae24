"""An exported GRU-PD ensemble (block-diagonal GRU, mean head) runs natively in Newton as the members' mean."""

import numpy as np
import pytest

from learned_actuators.learning import export_model
from learned_actuators.learning.ensemble import train_ensemble
from tests.learning.conftest import REF_KD, make_runs, quick_cfg
from tests.newton_drives.helpers import PHYSICS_DT, DriveRunner, torch_actuator, torch_step, trajectory

pytestmark = pytest.mark.unit

ENVS, JOINTS, STEPS = 3, 2, 40


@pytest.fixture(scope="module")
def ensemble_file(tmp_path_factory):
    cfg = quick_cfg("gru_pd", max_epochs=2)
    cfg.physics.kd = REF_KD
    ensemble = train_ensemble(cfg, make_runs(kps=(2.0, 4.0), duration=1.0, dt=PHYSICS_DT), members=3)
    return str(export_model(ensemble.combined(), tmp_path_factory.mktemp("ens"), "ens", onnx=False)["torchscript"])


@pytest.mark.usefixtures("drive_backend")
def test_native_drive_runs_the_ensemble_mean_as_the_python_path(ensemble_file):
    reference, ours = torch_actuator(ensemble_file, ENVS, JOINTS), DriveRunner(ensemble_file, ENVS, JOINTS)
    q, qd, qt = trajectory(STEPS, ENVS, JOINTS)
    error, spread = 0.0, 0.0
    for s in range(STEPS):
        expected = torch_step(reference, q[s], qd[s], qt[s])
        error = max(error, float(np.abs(ours.step(q[s], qd[s], qt[s]) - expected).max()))
        spread = max(spread, float(reference.ensemble_std.max()))
    assert error <= 1e-4, error
    assert spread > 0.0  # the Python path exposes the members' spread; the native drive runs their mean

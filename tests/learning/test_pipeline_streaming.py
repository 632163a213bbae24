"""The pipeline's baselines on lazily read runs: fitted within ``train.fit_frames``, as on runs in memory."""

import dataclasses

import numpy as np
import pytest

from learned_actuators.data.splits import Split
from learned_actuators.learning.baselines import fit_pd_friction
from learned_actuators.learning.data_loading import load_data
from learned_actuators.learning.pipeline import _baselines
from learned_actuators.learning.run_passes import frame_sample
from tests.learning.streaming_data import data_cfg, stream_cfg, write_profiles

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("fit_frames", [1_000_000, 700])
def test_pd_baseline_of_streamed_runs_equals_the_in_memory_fit(tmp_path, fit_frames):
    folder = write_profiles(tmp_path / "runs")
    lazy = load_data(data_cfg(folder, True))
    memory = load_data(data_cfg(folder, False))
    cfg = dataclasses.replace(stream_cfg("gru_pd"), fit_frames=fit_frames)
    (fit,) = [f for name, f in _baselines(cfg, lazy, trajectory=False).items() if name == "pd_friction_lsq"]
    streamed, _ = fit("s", Split(lazy.subset(range(4)), lazy.subset([4]), lazy.subset([5])))
    expected = fit_pd_friction(frame_sample(memory[:5], fit_frames))
    np.testing.assert_allclose(streamed.coef["all"], expected.coef["all"], rtol=1e-9)
    if fit_frames < sum(len(g) for g in memory[:5]):  # thinned: not the fit on every frame
        assert not np.allclose(streamed.coef["all"], fit_pd_friction(memory[:5]).coef["all"], rtol=1e-6)

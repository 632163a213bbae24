"""data.max_runs samples across groups, deterministically for its seed."""

import dataclasses

import pytest

from learned_actuators.data.synthetic import simulate_reference_actuator
from learned_actuators.learning.data_cfg import DataCfg
from learned_actuators.learning.data_loading import load_data, sample_runs
from learned_actuators.physics import PhysicsParams

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def logs():
    base = simulate_reference_actuator(PhysicsParams(kp=2.0), 0.01, 0.0, 0.0, duration=0.2, dt=0.01, name="r")
    # sorted by name, the first 6 runs would be groups a and b only
    return [
        dataclasses.replace(base, name=f"{group}{k}", meta={**base.meta, "load": group})
        for group in ("a", "b", "c")
        for k in range(4)
    ]


def test_max_runs_takes_runs_from_every_group(logs):
    chosen = sample_runs(logs, 6, "load", seed=0)
    assert len(chosen) == 6
    assert sorted(g.meta["load"] for g in chosen) == ["a", "a", "b", "b", "c", "c"]
    assert [g.name for g in chosen] == sorted(g.name for g in chosen)  # the runs keep their order
    seven = sample_runs(logs, 7, "load", seed=0)
    assert sorted({g.meta["load"] for g in seven}) == ["a", "b", "c"]
    assert all(sum(g.meta["load"] == x for g in seven) in (2, 3) for x in "abc")


def test_max_runs_is_deterministic_for_its_seed(logs):
    names = [g.name for g in sample_runs(logs, 5, "load", seed=3)]
    assert names == [g.name for g in sample_runs(logs, 5, "load", seed=3)]
    others = {tuple(g.name for g in sample_runs(logs, 5, "load", seed=s)) for s in range(8)}
    assert len(others) > 1  # the seed picks which runs
    assert sample_runs(logs, None, "load") == logs and sample_runs(logs, 12, "load") == logs


def test_load_data_uses_the_sample():
    full = load_data(DataCfg(split="runs"))  # the built-in demo runs, by trajectory group
    cfg = DataCfg(max_runs=4, group_key="group")
    chosen = load_data(cfg)
    assert [g.name for g in chosen] == [g.name for g in sample_runs(full, 4, "group", 0)]
    assert len({g.meta["group"] for g in chosen}) == min(4, len({g.meta["group"] for g in full}))
    assert len(full) == 16
    assert [g.name for g in load_data(dataclasses.replace(cfg, max_runs_seed=1))] != [g.name for g in chosen]

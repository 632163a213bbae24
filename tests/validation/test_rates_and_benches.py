"""Automatic decimation, bench geometries and per-geometry results, without the simulator."""

import json

import numpy as np
import pytest

from learned_actuators.data.joint_log import JointLog
from learned_actuators.errors import UserInputError
from learned_actuators.validation.bench import BenchParams, expand_benches, parse_bench_spec, run_benches
from learned_actuators.validation.rates import network_dt, physics_dt, resolve_decimation
from learned_actuators.validation.report import format_table, write_report
from learned_actuators.validation.results import ValidationResult, evaluate_model
from learned_actuators.validation.trajectories import TrajectoryBatch
from learned_actuators.validation.validation_cfg import ValidationCfg

pytestmark = pytest.mark.unit

PENDULUM = {"mass": 0.49, "length": 0.1, "inertia": 0.0069}


def _logs(dt=0.01, n=50, runs=2, meta=PENDULUM):
    t = np.arange(n) * dt  # float time stamps: a 100 Hz log's median period is 0.010000000000000009 s
    return [
        JointLog(
            name=f"run{e}",
            source=f"run{e}.json",
            t=t,
            q=np.sin(t + e)[:, None],
            q_target=np.sin(t + e + 0.1)[:, None],
            qd=np.cos(t + e)[:, None],
            tau=np.sin(t)[:, None],
            joint_names=["joint"],
            meta=dict(meta, kp=100),
        )
        for e in range(runs)
    ]


def test_100_hz_and_50_hz_logs_get_a_decimation_by_default():
    cfg = ValidationCfg()
    assert cfg.decimation is None
    batch = TrajectoryBatch.from_logs(_logs(dt=0.01))
    assert batch.dt > 0.01  # the float period that used to be refused at decimation 1
    assert resolve_decimation(batch.dt, cfg) == 1
    assert physics_dt(batch.dt, cfg) == pytest.approx(0.01)
    assert resolve_decimation(TrajectoryBatch.from_logs(_logs(dt=0.02)).dt, cfg) == 2
    assert resolve_decimation(0.05, cfg) == 5
    assert resolve_decimation(0.005, cfg) == 1


def test_decimation_makes_the_nets_dt_a_whole_multiple_of_the_physics_step():
    cfg = ValidationCfg()
    assert resolve_decimation(0.01, cfg, [0.005]) == 2  # a 200 Hz net on a 100 Hz log
    assert resolve_decimation(0.02, cfg, [0.005, None]) == 4
    assert resolve_decimation(0.005, cfg, [0.02]) == 1  # a 50 Hz net runs every 4th step of a 200 Hz log
    assert resolve_decimation(0.01, cfg, [0.004, 0.006]) == 5  # 0.002 s divides both
    assert resolve_decimation(0.01, ValidationCfg(max_physics_dt=0.004), [0.005]) == 4
    with pytest.raises(ValueError, match=r"divides both the log period 0\.01 s and the learned models' dt"):
        resolve_decimation(0.01, ValidationCfg(min_physics_dt=1e-3), [0.0047])


def test_an_explicit_decimation_wins_and_is_checked():
    assert resolve_decimation(0.005, ValidationCfg(decimation=3), [0.005]) == 3  # the net refuses it later itself
    with pytest.raises(ValueError, match=r"above the largest supported 0\.01 s; use decimation >= 5"):
        resolve_decimation(0.05, ValidationCfg(decimation=1))
    with pytest.raises(ValueError, match="cannot replay at that rate"):
        resolve_decimation(1e-6, ValidationCfg())
    with pytest.raises(ValueError, match="cannot replay at that rate"):
        resolve_decimation(0.01, ValidationCfg(decimation=2000))
    with pytest.raises(ValueError, match="expected an integer >= 1"):
        resolve_decimation(0.01, ValidationCfg(decimation=0))


def test_network_dt_reads_learned_cfgs_only(tmp_path):
    from isaaclab.actuators import IdealPDActuatorCfg

    from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg
    from tests.policy.gru_pd_net import write_gru_pd_net

    path = write_gru_pd_net(tmp_path / "net.pt", dt=0.02)
    limits = {"saturation_effort": 1.0, "actuator_velocity_limit": 10.0}
    assert network_dt(CombinedGRUAndPDActuatorCfg(joint_names_expr=[".*"], network_file=str(path), **limits)) == 0.02
    cfg = CombinedGRUAndPDActuatorCfg(joint_names_expr=[".*"], network_file=str(path), network_dt=0.01, **limits)
    assert network_dt(cfg) == 0.01
    assert network_dt(IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=1.0, damping=0.1)) is None


def test_bench_spec_parsing_and_errors_name_the_key():
    assert parse_bench_spec("mass=0.5, length=0.1") == {"mass": 0.5, "length": 0.1}
    for text, where in (("mas=1", "unknown key 'mas'"), ("mass=-1", "mass=-1.0"), ("mass=x", "mass='x'")):
        with pytest.raises(UserInputError, match=where):
            parse_bench_spec(text)
    with pytest.raises(UserInputError, match="inertia=0"):
        parse_bench_spec("inertia=0")


def test_a_new_arm_keeps_the_motor_side_armature():
    base = BenchParams(inertia=0.0069, mass=0.49, length=0.1)
    heavy = base.with_geometry({"mass": 1.0, "length": 0.15})
    assert heavy.inertia == pytest.approx(1.0 * 0.15**2 + 0.0069 - 0.49 * 0.01)
    assert heavy.armature == pytest.approx(base.armature)
    assert base.with_geometry({"inertia": 0.02}).inertia == 0.02
    assert base.with_geometry({"mass": 0.0, "armature": 0.001}).inertia == pytest.approx(0.001)


def test_runs_expand_once_per_geometry_run_major():
    batch = TrajectoryBatch.from_logs(_logs(runs=2))
    cfg = ValidationCfg(benches=({"mass": 0.49, "length": 0.1}, {"mass": 1.0, "length": 0.15}))
    wide = expand_benches(batch, cfg)
    assert wide.num_envs == 4
    np.testing.assert_array_equal(wide.q[1], batch.q[0])
    np.testing.assert_array_equal(wide.q_target[2], batch.q_target[1])
    benches = run_benches(wide, ValidationCfg())
    assert [b.mass for b in benches] == [0.49, 1.0, 0.49, 1.0]
    assert benches[1].inertia == pytest.approx(0.0225 + 0.002)
    assert wide.metas[3]["bench"] == benches[3].label and wide.metas[3]["kp"] == 100
    assert wide.names[0].startswith("run0 · m=0.49 kg") and batch.num_envs == 2  # the input is untouched
    with pytest.raises(UserInputError, match=r"ValidationCfg\.benches\[0\].*below m·l²"):
        expand_benches(batch, ValidationCfg(benches=({"mass": 1.0, "inertia": 1e-4},)))


def test_results_per_geometry_in_table_and_json(tmp_path):
    batch = expand_benches(
        TrajectoryBatch.from_logs(_logs(runs=2)), ValidationCfg(benches=({"mass": 0.49}, {"mass": 1.0}))
    )
    q = batch.q.copy()
    q[[1, 3]] += 0.2  # the heavier arm is 0.2 rad off, the logged one exact
    labels = [m["bench"] for m in batch.metas]
    result = ValidationResult(
        batch=batch,
        models=[evaluate_model("net", "model", batch, q, batch.qd, batch.tau)],
        replica="bench",
        physics_dt=0.005,
        decimation=2,
        benches=labels,
    )
    rows = result.table()
    assert [r["bench"] for r in rows] == [labels[0], labels[1]]
    assert rows[0]["pos_rmse"] == pytest.approx(0.0) and rows[1]["pos_rmse"] == pytest.approx(0.2)
    assert rows[0]["n_runs"] == 2 and result.table(by_bench=False)[0]["pos_rmse"] == pytest.approx(np.sqrt(0.02))
    assert labels[1] in format_table(result)
    paths = write_report(result, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["decimation"] == 2 and data["runs"][1]["bench"] == labels[1]
    assert data["models"]["net"]["per_bench"][labels[1]]["pos_rmse"] == pytest.approx(0.2)
    assert "(decimation 2)" in paths["html"].read_text()

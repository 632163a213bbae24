"""scripts/compare_actuators.py on a four-joint CSV without a time column: ours, a third-party MLP and a stock
IdealPD in one table on the same held-out frames (single-step errors, no simulator); model spec errors; ONNX nets."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from learned_actuators.data.splits import block_spans
from learned_actuators.errors import UserInputError
from learned_actuators.validation.third_party import onnx_to_torchscript, parse_model_spec
from tests.actuators.helpers import linear_mlp, save, shared_nets
from tests.data.ankle_log import JOINTS, KD, KP, ankle_frame, write_ankle_log
from tests.support.cli import script_main

pytestmark = pytest.mark.unit


def _ours(tmp_path) -> str:
    """One of our MLP files (metadata): tau = 30 (q* - q) - 2 qd."""
    net = linear_mlp([30.0, 0.0, -2.0, 0.0])
    return save(tmp_path, "ours.pt", net, model_type="mlp", dt=0.01, features=["pos_error", "qd"], input_idx=[0, 1])


def _held_out_rmse(df, torque, start: int, stop: int) -> float:
    """RMSE of ``torque(j, frame slice)`` against the logged torque over frames [start, stop) of every joint."""
    err = [torque(j, df.iloc[start:stop]) - df[f"tau_est_{j}"].to_numpy()[start:stop] for j in range(4)]
    return float(np.sqrt(np.mean(np.square(err))))


def test_multi_joint_csv_ours_go1_and_ideal_pd_in_one_table(tmp_path, capsys):
    csv, map_path = write_ankle_log(tmp_path, duration=8.0, header=False)  # no time column, gains in a side file
    go1 = shared_nets() / "unitree_go1.pt"
    out = tmp_path / "cmp"
    argv = ["--data", str(csv.parent), "--column-map", str(map_path), "--blocks", "4", "--test-block", "2"]
    argv += ["--gap-s", "0.5", "--out", str(out), "--model", f"ours:{_ours(tmp_path)}"]
    argv += ["--model", f"mlp:{go1},pos_scale=-1,input_idx=0,1,2,dt=0.02,name=go1", "--model", "isaaclab:IdealPD"]
    assert script_main("compare_actuators")(argv) == 0
    printed = capsys.readouterr().out
    assert all(f"τ RMSE {j}" in printed for j in JOINTS)  # per-joint columns, named as logged
    result = json.loads((out / "comparison.json").read_text())
    rows = {r["model"]: r for r in result["rows"]}
    assert list(rows) == ["ours", "go1", "IdealPD"]
    start, stop = block_spans(800, 4)[2]
    assert {r["frames"] for r in rows.values()} == {4 * (stop - start)}  # the same held-out frames for every model
    df = ankle_frame(8.0)

    def pd(j, d):
        return KP[j] * (d[f"cmd_{j}"] - d[f"pos_{j}"]).to_numpy() - KD * d[f"vel_{j}"].to_numpy()

    def ours(j, d):
        return 30.0 * (d[f"cmd_{j}"] - d[f"pos_{j}"]).to_numpy() - 2.0 * d[f"vel_{j}"].to_numpy()

    assert rows["IdealPD"]["torque_rmse"] == pytest.approx(_held_out_rmse(df, pd, start, stop), rel=1e-4)
    assert rows["ours"]["torque_rmse"] == pytest.approx(_held_out_rmse(df, ours, start, stop), rel=1e-4)
    assert rows["go1"]["torque_rmse"] > 10 * rows["IdealPD"]["torque_rmse"]  # another robot's motor
    assert any("no rollout" in n and "inertia" in n for n in result["notes"])  # no load known: said so
    assert not (out / "report.html").exists()
    assert json.loads((out / "run.json").read_text())["status"] == "finished"
    with pytest.raises(UserInputError, match="already"):  # a run never overwrites an earlier one
        script_main("compare_actuators")(argv)


def test_probe_convention_from_the_cli_on_the_training_blocks(tmp_path, capsys):
    csv, map_path = write_ankle_log(tmp_path, duration=6.0, header=False)
    go1 = shared_nets() / "unitree_go1.pt"
    argv = ["--data", str(csv.parent), "--column-map", str(map_path), "--blocks", "3", "--max-spacing", "0.04"]
    assert script_main("compare_actuators")([*argv, "--probe-convention", str(go1), "--out", str(tmp_path / "p")]) == 0
    printed = capsys.readouterr().out
    assert "on the training blocks" in printed and "--model mlp:" in printed
    probe = json.loads((tmp_path / "p" / "probe.json").read_text())
    assert len(probe["rows"]) == 4 * 2 * 2
    rmse = [r["torque_rmse"] for r in probe["rows"]]
    assert rmse == sorted(rmse)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("go1.pt", r"--model 'go1\.pt': expected KIND:TARGET.*'ours', 'mlp'"),
        ("mlp:{go1},pos_scale=-1", r"--model 'mlp:.*': missing input_idx=, dt=; a third-party net records no conv"),
        ("mlp:{go1},pos_scale=-1,input_idx=0,1,2,dt=fast", r"dt='fast'; expected a positive number"),
        ("mlp:{go1},pos_scale=0,input_idx=0,1,2,dt=0.02", r"pos_scale='0'; expected a finite non-zero number"),
        ("mlp:{go1},pos_scale=-1,input_idx=a,dt=0.02", r"input_idx='a'; expected history slots >= 0"),
        ("mlp:{go1},pos_scale=-1,input_idx=0,dt=0.02,order=x", r"unknown key 'order' for 'mlp'; expected \['name'"),
        ("mlp:missing.pt,pos_scale=-1,input_idx=0,dt=0.02", r"file missing\.pt not found"),
        ("isaaclab:PD", r"Isaac Lab class 'PD'; expected one of \['IdealPD', 'DCMotor'\]"),
        ("isaaclab:DCMotor,kp=20,kd=1", r"missing effort_limit=, velocity_limit=; DCMotor needs"),
        ("isaaclab:IdealPD,kd=1", r"kd without kp"),
        ("lstm:{go1}", r"missing dt=; give the rate the LSTM runs at"),
        ("onnx:{go1},pos_scale=-1,input_idx=0,dt=0.02", r"should end with \.onnx"),
    ],
)
def test_bad_model_specs_name_the_argument_and_what_is_expected(spec, message):
    with pytest.raises(UserInputError, match=message):
        parse_model_spec(spec.format(go1=shared_nets() / "unitree_go1.pt"))


def test_good_specs_give_the_cfgs():
    go1 = parse_model_spec(f"mlp:{shared_nets() / 'unitree_go1.pt'},pos_scale=-1,input_idx=0,1,2,dt=0.02")
    got = (go1.name, go1.cfg.pos_scale, list(go1.cfg.input_idx), go1.cfg.network_dt)
    assert got == ("unitree_go1", -1, [0, 1, 2], 0.02)
    pd = parse_model_spec("isaaclab:DCMotor,kp=20,kd=0.5,effort_limit=3,velocity_limit=7,name=dc")
    assert (pd.name, pd.gains, pd.cfg.saturation_effort, pd.cfg.actuator_velocity_limit) == ("dc", (20, 0.5), 3, 7)


def _onnx_mlp(path: Path, w1, b1, w2, b2, activation="Softsign"):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(np.asarray(a, np.float32), n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"))]
    inits.append(numpy_helper.from_array(np.asarray(b2, np.float32), "b2"))
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1),
        helper.make_node(activation, ["h"], ["a"]),
        helper.make_node("MatMul", ["a", "w2"], ["m"]),
        helper.make_node("Add", ["m", "b2"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", len(w1[0])])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_onnx_mlp_runs_as_torchscript_with_the_same_outputs(tmp_path):
    rng = np.random.default_rng(0)
    w1, b1, w2, b2 = rng.normal(size=(8, 6)), rng.normal(size=8), rng.normal(size=(8, 1)), rng.normal(size=1)
    path = _onnx_mlp(tmp_path / "net.onnx", w1, b1, w2, b2)
    converted = torch.jit.load(str(onnx_to_torchscript(path, tmp_path / "conv")))
    x = rng.normal(size=(5, 6))
    h = x @ w1.T + b1
    expected = (h / (1 + np.abs(h))) @ w2 + b2
    got = converted(torch.tensor(x, dtype=torch.float32)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    spec = parse_model_spec(f"onnx:{path},pos_scale=1,input_idx=0,1,2,dt=0.01")
    assert spec.cfg.network_file.endswith(".pt") and spec.name == "net"
    with pytest.raises(UserInputError, match=r"net2\.onnx: ONNX op 'Sin' is not part of a dense MLP"):
        onnx_to_torchscript(_onnx_mlp(tmp_path / "net2.onnx", w1, b1, w2, b2, activation="Sin"), tmp_path)

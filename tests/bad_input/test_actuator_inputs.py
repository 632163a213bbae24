"""Bad actuator cfgs and network files: building the actuator is refused with a clear user error.

For the actuators the "command line" is building an actuator from its cfg (what Isaac Lab does when it creates the
articulation); ``main`` below does just that, so every case also goes through :func:`~learned_actuators.errors.run_cli`
(exit status 2, one line naming the file and the field, no traceback). Each case also checks the exception class (a
:class:`~learned_actuators.errors.UserInputError` subclass) and that no network file changed.

Kinds (ids ``<kind>-<name>``), assigned by running these cases against the code before the fix: ``silent`` = the
actuator was built (and then ran with NaN, zero or inverted limits, or a silently wrong curve), ``crash`` = another
exception than a user error (a traceback through ``run_cli``), ``clear`` = already a user error (some of which did not
name the file yet: errors raised while parsing the metadata).
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import pytest
import torch

from learned_actuators.actuators import (
    ActuatorCfgError,
    CombinedGRUAndPDActuatorCfg,
    LSTMActuatorNetCfg,
    MLPActuatorNetCfg,
)
from learned_actuators.errors import UserInputError
from learned_actuators.network_file import METADATA_FILE_NAME, NetworkFileError
from tests.actuators.helpers import GRUNet, LSTMNet, linear_mlp, make_actuator
from tests.bad_input.harness import assert_refused, assert_unchanged, case, run_main, snapshot

pytestmark = pytest.mark.unit

LIMITS = {"saturation_effort": 20.0, "actuator_effort_limit": 20.0, "actuator_velocity_limit": 20.0}
GRU_META = {
    "model_type": "gru_pd",
    "dt": 0.005,
    "features": ["q", "q_target", "qd"],
    "hidden_size": 4,
    "num_layers": 1,
    "input_mean": [0.0, 0.0, 0.0],
    "input_std": [1.0, 1.0, 1.0],
    "physics": {"kp": 20.0, "kd": 0.5},
}
LSTM_META = {"model_type": "lstm", "dt": 0.005, "features": ["pos_error", "qd"], "hidden_size": 4, "num_layers": 2}
MLP_META = {"model_type": "mlp", "dt": 0.005, "features": ["pos_error", "qd"], "input_idx": [0, 1]}
MLP_CONVENTIONS = {
    "pos_scale": 1.0,
    "vel_scale": 1.0,
    "torque_scale": 1.0,
    "input_order": "pos_vel",
    "input_idx": [0, 1],
}
NETS = {
    "gru_pd": lambda: GRUNet(3, 4, 1),
    "lstm": lambda: LSTMNet(4, 2),
    "mlp": lambda: linear_mlp([1.0, 0.5, 0.1, 0.0]),
}
METAS = {"gru_pd": GRU_META, "lstm": LSTM_META, "mlp": MLP_META}
CFGS = {"gru_pd": CombinedGRUAndPDActuatorCfg, "lstm": LSTMActuatorNetCfg, "mlp": MLPActuatorNetCfg}


def write_net(folder: Path, model: str, name: str | None = None, metadata: str | dict | None = "default", net=None):
    """A TorchScript net of ``model`` in ``folder``; ``metadata``: "default", a dict of overrides, raw JSON text, or
    None (no metadata, like a third-party file)."""
    path = folder / (name or f"{model}.pt")
    scripted = torch.jit.script((net or NETS[model]()).eval())
    if metadata is None:
        torch.jit.save(scripted, str(path))
        return str(path)
    if isinstance(metadata, str) and metadata != "default":
        text = metadata
    else:
        text = json.dumps({**METAS[model], **({} if metadata == "default" else metadata)})
    torch.jit.save(scripted, str(path), _extra_files={METADATA_FILE_NAME: text})
    return str(path)


def cfg_for(model: str, path, **fields):
    return CFGS[model](joint_names_expr=[".*"], network_file=path, **{"physics_dt": 0.005, **LIMITS, **fields})


# Each builder makes the net file(s) in ``folder`` and returns (cfg factory, file named, expected class, field named).
# The cfg is built inside the refused "command line" too: a cfg class may refuse an unknown field itself.


def meta_case(model, overrides, field, **cfg_fields):
    def build(folder):
        path = write_net(folder, model, metadata=overrides)
        return (lambda: cfg_for(model, path, **cfg_fields)), path, NetworkFileError, field

    return build


def cfg_case(model, field, error=ActuatorCfgError, metadata="default", **cfg_fields):
    def build(folder):
        path = write_net(folder, model, metadata=metadata)
        return (lambda: cfg_for(model, path, **cfg_fields)), path, error, field

    return build


def file_case(field, make):
    def build(folder):
        path = str(make(folder))
        return (lambda: cfg_for("gru_pd", path)), path, NetworkFileError, field

    return build


def truncated(folder: Path) -> Path:
    path = Path(write_net(folder, "gru_pd"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupted_entry(folder: Path) -> Path:
    """A zip whose archive structure is intact but whose TorchScript code entry is garbage."""
    source = Path(write_net(folder, "gru_pd", name="source.pt"))
    path = folder / "corrupted.pt"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith("data.pkl"):
                data = b"\x80garbage" * 4
            zout.writestr(item, data)
    source.unlink()
    return path


def state_dict_file(folder: Path) -> Path:
    path = folder / "state_dict.pt"
    torch.save(GRUNet(3, 4, 1).state_dict(), path)
    return path


def pickled_module(folder: Path) -> Path:
    path = folder / "module.pt"
    torch.save(GRUNet(3, 4, 1), path)
    return path


def text_file(folder: Path) -> Path:
    path = folder / "net.pt"
    path.write_text("not a net\n")
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "empty.pt"
    path.write_bytes(b"")
    return path


def directory(folder: Path) -> Path:
    path = folder / "a_folder.pt"
    path.mkdir()
    return path


def no_file_case(field, network_file):
    def build(folder):
        return (lambda: cfg_for("gru_pd", network_file)), str(network_file), ActuatorCfgError, field

    return build


def missing(folder: Path) -> Path:
    return folder / "missing.pt"


CASES = [
    # --- the network file itself
    case("clear", "missing-file", file_case("not found", missing)),
    case("clear", "directory-not-file", file_case("not found", directory)),
    case("clear", "empty-file", file_case("TorchScript", empty_file)),
    case("clear", "text-file", file_case("TorchScript", text_file)),
    case("clear", "truncated-file", file_case("TorchScript", truncated)),
    case("clear", "corrupted-archive-entry", file_case("TorchScript", corrupted_entry)),
    case("clear", "state-dict-not-torchscript", file_case("TorchScript", state_dict_file)),
    case("clear", "pickled-module-not-torchscript", file_case("TorchScript", pickled_module)),
    case("crash", "network-file-not-set", no_file_case("network_file", None)),
    case("clear", "network-file-empty-string", no_file_case("network_file", "")),
    # --- its metadata
    case("clear", "metadata-not-json", meta_case("gru_pd", "{'dt': 0.005", METADATA_FILE_NAME)),
    case("clear", "metadata-unknown-field", meta_case("gru_pd", {"learning_rate": 1e-3}, "learning_rate")),
    case("clear", "metadata-model-type-of-another-class", meta_case("gru_pd", {"model_type": "lstm"}, "model_type")),
    case("clear", "metadata-model-type-unknown", meta_case("gru_pd", {"model_type": "gru"}, "model_type")),
    case("clear", "metadata-dt-zero", meta_case("gru_pd", {"dt": 0.0}, "'dt'")),
    case("clear", "metadata-dt-a-string", meta_case("gru_pd", {"dt": "0.005"}, "'dt'")),
    case("crash", "metadata-dt-infinite", meta_case("gru_pd", {"dt": math.inf}, "'dt'")),
    case("clear", "metadata-dt-not-a-multiple-of-physics-dt", meta_case("gru_pd", {"dt": 0.012}, "dt=0.012")),
    case("clear", "metadata-dt-below-physics-dt", meta_case("lstm", {"dt": 0.001}, "dt=0.001")),
    case("clear", "metadata-hidden-size-not-the-nets", meta_case("gru_pd", {"hidden_size": 16}, "hidden_size")),
    case("clear", "metadata-num-layers-not-the-nets", meta_case("lstm", {"num_layers": 3}, "num_layers")),
    case("clear", "metadata-features-of-another-width", meta_case("gru_pd", {"features": ["q", "qd"]}, "features")),
    case("clear", "metadata-lstm-features-wrong", meta_case("lstm", {"features": ["q", "qd"]}, "features")),
    case("clear", "metadata-mode-unknown", meta_case("gru_pd", {"mode": "hybrid"}, "mode")),
    case("clear", "metadata-input-std-zero", meta_case("gru_pd", {"input_std": [1.0, 0.0, 1.0]}, "input_std")),
    case("silent", "metadata-output-std-nan", meta_case("gru_pd", {"output_std": math.nan}, "output_std")),
    case("silent", "metadata-output-std-zero", meta_case("gru_pd", {"output_std": 0.0}, "output_std")),
    case("crash", "metadata-physics-unknown-key", meta_case("gru_pd", {"physics": {"kp": 20.0, "Kp": 1}}, "physics")),
    case("silent", "metadata-physics-kp-nan", meta_case("gru_pd", {"physics": {"kp": math.nan}}, "physics.kp")),
    case("silent", "metadata-physics-kd-negative", meta_case("gru_pd", {"physics": {"kd": -0.5}}, "physics.kd")),
    case("silent", "metadata-pos-error-sign-zero", meta_case("mlp", {"pos_error_sign": 0}, "pos_error_sign")),
    case("crash", "metadata-input-idx-negative", meta_case("mlp", {"input_idx": [0, -1]}, "input_idx")),
    case("crash", "metadata-input-order-unknown", meta_case("mlp", {"input_order": "pos-vel"}, "input_order")),
    case("silent", "metadata-torque-scale-nan", meta_case("mlp", {"torque_scale": math.nan}, "torque_scale")),
    # --- cfg fields that disagree with the file
    case("clear", "cfg-hidden-size-mismatch", cfg_case("gru_pd", "hidden_size", NetworkFileError, hidden_size=8)),
    case("clear", "cfg-network-dt-mismatch", cfg_case("lstm", "'dt'", NetworkFileError, network_dt=0.02)),
    case("clear", "cfg-features-mismatch", cfg_case("gru_pd", "features", NetworkFileError, features=["q", "qd"])),
    case("clear", "cfg-mode-mismatch", cfg_case("gru_pd", "mode", NetworkFileError, mode="direct")),
    case("clear", "cfg-mlp-scale-mismatch", cfg_case("mlp", "pos_scale", NetworkFileError, pos_scale=-1.0)),
    # --- cfg fields with values the actuator cannot run with
    case("crash", "cfg-nonfinite-option-unknown", cfg_case("lstm", "nonfinite", nonfinite="ignore")),
    case("silent", "cfg-torque-speed-curve-unknown", cfg_case("lstm", "torque_speed_curve", torque_speed_curve="lin")),
    case("crash", "cfg-physics-dt-zero", cfg_case("lstm", "physics_dt", physics_dt=0.0)),
    case("crash", "cfg-physics-dt-nan", cfg_case("lstm", "physics_dt", physics_dt=math.nan)),
    case("clear", "cfg-physics-dt-negative", cfg_case("lstm", "physics_dt", physics_dt=-0.005)),
    case(
        "crash",
        "cfg-network-dt-infinite-no-metadata",
        cfg_case("lstm", "network_dt", metadata=None, network_dt=math.inf),
    ),
    case("clear", "cfg-network-dt-zero-no-metadata", cfg_case("lstm", "network_dt", metadata=None, network_dt=0.0)),
    case("crash", "cfg-saturation-effort-missing", cfg_case("lstm", "saturation_effort", saturation_effort=None)),
    case("silent", "cfg-saturation-effort-negative", cfg_case("lstm", "saturation_effort", saturation_effort=-5.0)),
    case("silent", "cfg-saturation-effort-zero", cfg_case("mlp", "saturation_effort", saturation_effort=0.0)),
    case("silent", "cfg-saturation-effort-nan", cfg_case("gru_pd", "saturation_effort", saturation_effort=math.nan)),
    case("crash", "cfg-saturation-effort-a-string", cfg_case("lstm", "saturation_effort", saturation_effort="23.7")),
    case(
        "crash",
        "cfg-saturation-effort-pattern-matches-no-joint",
        cfg_case("lstm", "saturation_effort", saturation_effort={".*_hip_joint": 23.7}),
    ),
    case("silent", "cfg-velocity-limit-zero", cfg_case("gru_pd", "actuator_velocity_limit", actuator_velocity_limit=0)),
    case("silent", "cfg-effort-limit-negative", cfg_case("mlp", "actuator_effort_limit", actuator_effort_limit=-1.0)),
    case(
        "silent",
        "cfg-effort-limit-dict-misses-joints",
        cfg_case("lstm", "actuator_effort_limit", actuator_effort_limit={"joint_0": 20.0}),
    ),
    case("silent", "cfg-gru-stiffness-negative", cfg_case("gru_pd", "stiffness", stiffness=-20.0)),
    case("silent", "cfg-gru-damping-nan", cfg_case("gru_pd", "damping", damping=math.nan)),
    case("silent", "cfg-gru-pd-no-load-speed-zero", cfg_case("gru_pd", "pd_no_load_speed", pd_no_load_speed=0.0)),
    case("silent", "cfg-gru-friction-negative", cfg_case("gru_pd", "friction", friction=-0.5)),
    case("crash", "cfg-gru-spring-stiffness-a-list", cfg_case("gru_pd", "spring_stiffness", spring_stiffness=[1, 2])),
    case(
        "silent",
        "cfg-mlp-pos-scale-nan",
        cfg_case("mlp", "pos_scale", metadata=None, **{**MLP_CONVENTIONS, "pos_scale": math.nan}),
    ),
    case(
        "silent",
        "cfg-mlp-torque-scale-zero",
        cfg_case("mlp", "torque_scale", metadata=None, **{**MLP_CONVENTIONS, "torque_scale": 0.0}),
    ),
    case(
        "crash",
        "cfg-mlp-input-idx-empty",
        cfg_case("mlp", "input_idx", metadata=None, **{**MLP_CONVENTIONS, "input_idx": []}),
    ),
    case(
        "crash",
        "cfg-mlp-input-order-unknown",
        cfg_case("mlp", "input_order", metadata=None, **{**MLP_CONVENTIONS, "input_order": "velocity first"}),
    ),
    case("crash", "cfg-mlp-compile-without-fused-kernels", cfg_case("mlp", "compile", fused=False, compile=True)),
]


@pytest.mark.parametrize("build", CASES)
def test_bad_actuator_input_is_refused_clearly(tmp_path, capsys, build):
    folder = tmp_path / "nets"
    folder.mkdir()
    make_cfg, path, error, field = build(folder)
    before = snapshot(folder)

    def main(argv: list[str]) -> int:
        make_actuator(make_cfg(), num_envs=2, num_joints=3)
        return 0

    with pytest.raises(UserInputError) as raised:
        main([])
    assert isinstance(raised.value, error), f"{type(raised.value).__name__}: {raised.value}"
    assert path in str(raised.value) and field in str(raised.value), str(raised.value)
    assert_refused(run_main(main, [], capsys), path, field)
    assert_unchanged(before, folder)

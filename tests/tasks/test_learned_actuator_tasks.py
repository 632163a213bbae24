"""Go2 tasks with learned actuators: registration, cfg deltas, the network-file override (cfg objects, no simulator)."""

import gymnasium as gym
import pytest

import learned_actuators.tasks  # noqa: F401
from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg, LSTMActuatorNetCfg, MLPActuatorNetCfg
from learned_actuators.assets.paths import go2_usd_path
from learned_actuators.envs import load_task_cfgs
from learned_actuators.models import go2_starter_path, go2_starter_pd_curve
from learned_actuators.tasks.locomotion.go2.learned_env_cfg import MissingNetworkFileError

pytestmark = pytest.mark.unit

PREFIX = "LearnedActuators-Velocity"
ACTUATORS = {"GRUPD": CombinedGRUAndPDActuatorCfg, "LSTM": LSTMActuatorNetCfg, "MLP": MLPActuatorNetCfg}
EXPERIMENTS = {"GRUPD": "gru_pd", "LSTM": "lstm", "MLP": "mlp"}
KEY = "env.scene.robot.actuators.base_legs.network_file"


def task_id(terrain: str, actuator: str, offline: bool) -> str:
    return f"{PREFIX}-{terrain}-UnitreeGo2-{actuator}{'-Offline' if offline else ''}"


ALL = [(t, a, o) for t in ("Flat", "Rough") for a in ACTUATORS for o in (True, False)]


@pytest.mark.parametrize(("terrain", "actuator", "offline"), ALL)
def test_learned_actuator_task_is_registered_with_its_own_rsl_rl_runner(terrain, actuator, offline):
    spec = gym.spec(task_id(terrain, actuator, offline))
    assert spec.entry_point == "isaaclab.envs:ManagerBasedRLEnv"
    suffix = "Offline" if offline else ""
    assert spec.kwargs["env_cfg_entry_point"].endswith(f"learned_env_cfg:UnitreeGo2{terrain}{actuator}{suffix}EnvCfg")
    assert spec.kwargs["rsl_rl_cfg_entry_point"].endswith(f":Go2{terrain}{actuator}PPORunnerCfg")
    assert spec.kwargs["default_agent"] == "rsl_rl"


def _without(cfg_dict: dict, *paths: str) -> dict:
    for path in paths:
        *parents, leaf = path.split(".")
        node = cfg_dict
        for p in parents:
            node = node[p]
        node.pop(leaf)
    return cfg_dict


@pytest.mark.parametrize(("terrain", "actuator"), [(t, a) for t in ("Flat", "Rough") for a in ACTUATORS])
def test_only_the_actuators_and_the_actuator_path_differ_from_the_dc_motor_task(terrain, actuator):
    env_cfg, agent_cfg = load_task_cfgs(task_id(terrain, actuator, offline=True))
    base_cfg, base_agent = load_task_cfgs(f"{PREFIX}-{terrain}-UnitreeGo2-Offline")

    legs = env_cfg.scene.robot.actuators
    stock = base_cfg.scene.robot.actuators["base_legs"]
    assert list(legs) == ["base_legs"]
    assert type(legs["base_legs"]) is ACTUATORS[actuator]
    assert legs["base_legs"].joint_names_expr == stock.joint_names_expr
    for limit in ("saturation_effort", "actuator_effort_limit", "actuator_velocity_limit"):
        assert getattr(legs["base_legs"], limit) == getattr(stock, limit), limit
    # every learned actuator runs natively in Newton (Isaac Lab's default flag)
    assert env_cfg.sim.use_newton_actuators is True and base_cfg.sim.use_newton_actuators is True

    ignore = ("scene.robot.actuators", "sim.use_newton_actuators")
    assert _without(env_cfg.to_dict(), *ignore) == _without(base_cfg.to_dict(), *ignore)
    assert agent_cfg.experiment_name == f"go2_{terrain.lower()}_{EXPERIMENTS[actuator]}"
    assert _without(agent_cfg.to_dict(), "experiment_name") == _without(base_agent.to_dict(), "experiment_name")


def test_offline_and_official_variants_differ_in_their_assets():
    offline, _ = load_task_cfgs(task_id("Flat", "GRUPD", offline=True))
    official, _ = load_task_cfgs(task_id("Flat", "GRUPD", offline=False))
    assert offline.scene.robot.spawn.usd_path == str(go2_usd_path())
    assert official.scene.robot.spawn.usd_path.endswith("Robots/Unitree/Go2/go2.usd")
    assert official.scene.terrain.terrain_type == "plane"
    assert type(official.scene.robot.actuators["base_legs"]) is CombinedGRUAndPDActuatorCfg
    assert official.sim.use_newton_actuators is True


def test_network_file_is_set_by_a_command_line_override(tmp_path):
    net = tmp_path / "net.pt"
    net.write_bytes(b"not checked here; the actuator loads it")
    env_cfg, _ = load_task_cfgs(task_id("Rough", "LSTM", offline=True), [f"{KEY}={net}"])
    assert env_cfg.scene.robot.actuators["base_legs"].network_file == str(net)
    env_cfg.validate()  # no error once the file exists


@pytest.mark.parametrize(("terrain", "offline"), [(t, o) for t in ("Flat", "Rough") for o in (True, False)])
def test_gru_pd_tasks_default_to_the_shipped_go2_starter_model(terrain, offline):
    env_cfg, _ = load_task_cfgs(task_id(terrain, "GRUPD", offline=offline))
    legs = env_cfg.scene.robot.actuators["base_legs"]
    assert legs.network_file == go2_starter_path()
    # the calf's 1.92:1 reaches the model's PD curve, not only the final clip
    curve = go2_starter_pd_curve()
    assert legs.pd_stall_torque == curve["pd_stall_torque"] and legs.pd_no_load_speed == curve["pd_no_load_speed"]
    assert legs.pd_stall_torque[".*_calf_joint"] == 45.43 and legs.pd_no_load_speed[".*_calf_joint"] == 15.70
    env_cfg.validate()  # the default file exists (package data)


def test_the_starter_default_is_overridden_from_the_command_line(tmp_path):
    net = tmp_path / "mine.pt"
    net.write_bytes(b"not checked here; the actuator loads it")
    env_cfg, _ = load_task_cfgs(task_id("Flat", "GRUPD", offline=True), [f"{KEY}={net}"])
    assert env_cfg.scene.robot.actuators["base_legs"].network_file == str(net)


@pytest.mark.parametrize("actuator", ["LSTM", "MLP"])
def test_missing_network_file_error_names_the_override(actuator):
    env_cfg, _ = load_task_cfgs(task_id("Flat", actuator, offline=True))
    with pytest.raises(MissingNetworkFileError, match=f"has no network file.*{KEY}=/path/to/net.pt"):
        env_cfg.validate()


def test_nonexistent_network_file_error_names_the_path_and_the_override(tmp_path):
    missing = tmp_path / "nope.pt"
    env_cfg, _ = load_task_cfgs(task_id("Flat", "MLP", offline=False), [f"{KEY}={missing}"])
    with pytest.raises(MissingNetworkFileError, match=f"{KEY}={missing}: no such file"):
        env_cfg.validate()


def test_learned_actuator_cfgs_of_one_task_do_not_leak_into_another():
    """Each env cfg gets its own copy of the actuator preset: setting one file must not set it elsewhere."""
    first, _ = load_task_cfgs(task_id("Flat", "GRUPD", offline=True), [f"{KEY}=/a.pt"])
    second, _ = load_task_cfgs(task_id("Rough", "GRUPD", offline=True))
    third, _ = load_task_cfgs(task_id("Rough", "MLP", offline=True))
    assert first.scene.robot.actuators["base_legs"].network_file == "/a.pt"
    assert second.scene.robot.actuators["base_legs"].network_file == go2_starter_path()
    assert third.scene.robot.actuators["base_legs"].network_file == ""


def test_gru_pd_tasks_fall_back_to_the_python_path_when_the_native_path_is_off(monkeypatch):
    """With Isaac Lab/Newton versions the native hooks were not written for, the task sets the flag itself."""
    from learned_actuators.actuators import isaaclab_native

    monkeypatch.setattr(isaaclab_native, "native_path_available", lambda: False)
    env_cfg, _ = load_task_cfgs(task_id("Flat", "GRUPD", offline=True))
    assert env_cfg.sim.use_newton_actuators is False


def test_the_python_path_stays_available_from_the_command_line():
    env_cfg, _ = load_task_cfgs(task_id("Flat", "GRUPD", offline=True), ["env.sim.use_newton_actuators=false"])
    assert env_cfg.sim.use_newton_actuators is False

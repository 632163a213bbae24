"""Every registered task builds its cfgs from a class written out (greppable) in its entry-point module (no sim)."""

import importlib
import inspect

import gymnasium as gym
import pytest

import learned_actuators.tasks  # noqa: F401
from learned_actuators.actuators import LearnedActuatorBaseCfg
from learned_actuators.envs import load_task_cfgs
from learned_actuators.tasks.locomotion import go2
from learned_actuators.tasks.locomotion.go2.learned_env_cfg import LearnedActuatorEnvCfgMixin

pytestmark = pytest.mark.unit

REGISTERED = sorted(task for task in gym.registry if task.startswith(f"{go2.TASK_PREFIX}-"))


def test_the_task_table_is_what_gym_knows():
    assert len(REGISTERED) == 21  # 2 DC-motor + 12 learned + 3 randomized + 4 AMP
    assert sorted(f"{go2.TASK_PREFIX}-{task_id}" for task_id, _, _ in go2.TASKS) == REGISTERED


def _written_out(entry_point: str) -> type:
    """The class named by ``module:Class``, checked to be defined by a ``class Class(`` statement in that module."""
    module_name, class_name = entry_point.split(":")
    module = importlib.import_module(module_name)
    cls = getattr(module, class_name)
    assert (cls.__name__, cls.__qualname__, cls.__module__) == (class_name, class_name, module_name)
    assert f"\nclass {class_name}(" in inspect.getsource(module), f"{class_name} is not a class statement"
    return cls


@pytest.mark.parametrize("task", REGISTERED)
def test_every_registered_task_builds_its_cfgs_from_explicit_classes(task):
    spec = gym.spec(task)
    env_cls = _written_out(spec.kwargs["env_cfg_entry_point"])
    agent_cls = _written_out(spec.kwargs["rsl_rl_cfg_entry_point"])
    env_cfg, agent_cfg = load_task_cfgs(task)
    assert type(env_cfg) is env_cls and type(agent_cfg) is agent_cls
    learned = [a for a in env_cfg.scene.robot.actuators.values() if isinstance(a, LearnedActuatorBaseCfg)]
    # a task with a learned actuator checks its network file when built; "GRUPD"/"LSTM"/"MLP" in the id says which
    assert bool(learned) == isinstance(env_cfg, LearnedActuatorEnvCfgMixin)
    names = {"GRUPD": "CombinedGRUAndPDActuatorCfg", "LSTM": "LSTMActuatorNetCfg", "MLP": "MLPActuatorNetCfg"}
    kinds = [kind for kind in names if f"-{kind}" in task]
    assert [type(a).__name__ for a in learned] == [names[k] for k in kinds]
    assert (getattr(env_cfg.events, "actuator_randomization", None) is not None) == ("-Randomized" in task)
    assert (getattr(env_cfg.observations, "amp", None) is not None) == ("-AMP" in task)

"""Actuator-net training: models, trainer, metrics, rollouts, baselines, export (PyTorch only, no simulator)."""

from .actuator_model import ActuatorModel, Stepper
from .baselines import PDFrictionBaseline, fit_pd_friction, fit_physics
from .demo import run_demo
from .export import export_model, export_onnx, export_torchscript, network_metadata
from .metrics import torque_metrics
from .models import GRUDeploy, GRUNet, LSTMDeploy, LSTMNet, MLPDeploy, MLPNet
from .models_cfg import GRUModelCfg, LSTMModelCfg, MLPModelCfg, PhysicsCfg
from .pipeline import DataCfg, apply_overrides, build_cfg, evaluate_model, format_table, load_preset, run_preset
from .rollout import error_vs_horizon, rollout
from .trainer import TrainResult, evaluate, train
from .trainer_cfg import RolloutLossCfg, TrainCfg

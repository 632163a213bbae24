"""Actuator-net training: models, trainer, metrics, rollouts, baselines, export (PyTorch only, no simulator)."""

from .actuator_model import ActuatorModel, Stepper
from .baselines import PDFrictionBaseline, fit_pd_friction, fit_physics
from .data_cfg import DataCfg
from .evaluation import evaluate, format_table
from .export import export_model, export_onnx, export_torchscript, network_metadata
from .metrics import torque_metrics
from .models import GRUDeploy, GRUNet, LSTMDeploy, LSTMNet, MLPDeploy, MLPNet
from .models_cfg import GRUModelCfg, LSTMModelCfg, MLPModelCfg, PhysicsCfg
from .pipeline import run_preset
from .presets import apply_overrides, build_cfg, load_preset
from .rollout import error_vs_horizon, rollout
from .trainer import TrainResult, train
from .trainer_cfg import RolloutLossCfg, TrainCfg

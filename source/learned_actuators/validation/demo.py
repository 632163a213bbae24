"""The README main job, end to end on CPU and offline: train, validate in the simulator, write the report.

Trains GRU-PD on the built-in BAM pendulum logs, validates it on the held-out trajectory against IdealPD,
DCMotor and a fitted PD, and writes the report.

``python scripts/validate_actuator.py --demo [--out DIR]`` runs :func:`run`.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from learned_actuators.data.demo import load_demo_logs
from learned_actuators.network_file import load_network

__all__ = ["run"]

logger = logging.getLogger(__name__)


def _trained_physics(train_dir: Path, defaults: dict) -> dict:
    """Resolved (fitted) physics of the trained GRU-PD (``config.json`` of its run), else the preset's."""
    for path in sorted(train_dir.glob("gru_pd/*/config.json")):
        resolved = json.loads(path.read_text()).get("resolved_physics")
        if resolved:
            return resolved
    return defaults


def run(
    out_dir: str | Path = "runs/validation_demo",
    network_file: str | Path | None = None,
    max_epochs: int | None = None,
    extra_networks: dict[str, str | Path] | None = None,
):
    """Train (unless ``network_file`` is given), validate and write ``report.html`` / ``metrics.json`` to ``out_dir``.

    Args:
        out_dir: Output folder (training runs in ``out_dir/train``).
        network_file: An exported GRU-PD file to validate instead of training one.
        max_epochs: Override of the demo recipe's training epochs (for quick checks).
        extra_networks: Exported LSTM / MLP files to validate beside the GRU-PD, by model type
            (``{"lstm": path, "mlp": path}``); they run with the same motor limits.

    Returns:
        ``(result, paths)``: the :class:`~learned_actuators.validation.results.ValidationResult` and the report files.
    """
    from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg
    from learned_actuators.learning.demo import DEMO_PRESET
    from learned_actuators.learning.pipeline import merge_presets, run_preset

    from .report import write_report
    from .validate import run_validation
    from .validation_cfg import ValidationCfg

    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    preset = DEMO_PRESET if max_epochs is None else merge_presets(DEMO_PRESET, {"train": {"max_epochs": max_epochs}})
    if network_file is None:
        run_preset(preset, out_dir / "train", models=["gru_pd"], baseline=False)
        network_file = out_dir / "train" / "export" / "gru_pd.pt"
    train_s = time.perf_counter() - t0
    _, metadata = load_network(network_file)
    physics = _trained_physics(out_dir / "train", preset["train"]["physics"])
    test_groups = set(preset["data"]["test_groups"])
    logs = [log for log in load_demo_logs() if log.meta.get("trajectory") in test_groups]
    stall, speed = physics.get("stall_torque"), physics.get("no_load_speed")
    cfg = ValidationCfg(
        replica="bench",
        kp_scale=float(physics.get("kp_scale", 1.0)),
        kd=float(physics.get("kd", 0.0)),
        effort_limit=stall,
        velocity_limit=speed,
    )
    # The fitted torque-speed curve is part of the GRU-PD model (its file carries it and saturates the PD with it);
    # the motor's own joint-side envelope is not known from these logs, so the final clip is left open, as in the
    # trainer's rollout evaluation. The DCMotor baseline uses the fitted curve as its envelope.
    open_limits = {"saturation_effort": 1e6, "actuator_effort_limit": 1e6, "actuator_velocity_limit": 1e6}
    model = CombinedGRUAndPDActuatorCfg(joint_names_expr=[".*"], network_file=str(network_file), **open_limits)
    models = {"gru_pd": model}
    for name, path in (extra_networks or {}).items():
        from learned_actuators.actuators import LSTMActuatorNetCfg, MLPActuatorNetCfg

        cfg_class = {"lstm": LSTMActuatorNetCfg, "mlp": MLPActuatorNetCfg}[name]
        models[name] = cfg_class(joint_names_expr=[".*"], network_file=str(path), **open_limits)
    result = run_validation(logs, models, cfg)
    result.settings["demo"] = {
        "network_file": str(network_file),
        "network_dt": metadata.dt if metadata else None,
        "test_groups": sorted(test_groups),
        "train_time_s": train_s,
        "total_time_s": time.perf_counter() - t0,
    }
    paths = write_report(result, out_dir, num_runs=cfg.plot_trajectories)
    logger.info("validation demo done in %.0f s", time.perf_counter() - t0)
    return result, paths

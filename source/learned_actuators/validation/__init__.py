"""In-simulator validation of actuator models against logged trajectories.

Pure modules (no simulator): :mod:`.metrics`, :mod:`.trajectories`, :mod:`.results`, :mod:`.report`,
:mod:`.verdict`, :mod:`.provenance`, :mod:`.rates`, :mod:`.bench` (needs only ``pxr``), :mod:`.conventions`
(a third-party net's input convention probed on a log), :mod:`.third_party` (model specs), :mod:`.compare` (any mix of
models on the same held-out frames; single-step without the simulator), :mod:`.baselines` (the analytic baselines
as Isaac Lab actuator cfgs). The replay (:mod:`.replay`, :mod:`.validate`, and :mod:`.env_groups`: several actuator
models side by side in one replay) needs Isaac Lab 3.0 and is imported on first use of its names, so
``import learned_actuators.validation`` stays light.
"""

from importlib import import_module

_LAZY = {
    "BenchParams": ".bench",
    "write_bench_usd": ".bench",
    "TrajectoryBatch": ".trajectories",
    "ModelResult": ".results",
    "ValidationResult": ".results",
    "evaluate_model": ".results",
    "format_table": ".report",
    "write_report": ".report",
    "ValidationCfg": ".validation_cfg",
    "Rollout": ".replay",
    "replay": ".replay",
    "single_step_torque": ".replay",
    "run_validation": ".validate",
    "run_validation_folds": ".validate",
    "EnvGroupsActuatorCfg": ".env_groups",
    "FoldSpec": ".validate",
    "merge_results": ".results",
    "compute_verdict": ".verdict",
    "Verdict": ".verdict",
    "provenance": ".provenance",
    "baseline_models": ".baselines",
    "learned_model_cfg": ".model_physics",
    "network_physics": ".model_physics",
    "resolve_decimation": ".rates",
    "compare_models": ".compare",
    "held_out": ".compare",
    "format_comparison": ".compare",
    "probe_convention": ".conventions",
    "Convention": ".conventions",
    "parse_model_spec": ".third_party",
    "joint_benches": ".bench",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""One net per logged gain: how nets without a gain input (LSTM, MLP) are trained and judged on runs of several gains.

Isaac Lab's LSTM and MLP actuator nets see ``[q* - q, q̇]`` only: trained on runs of several PD gains they cannot
tell which gain drives the motor, and on the BAM XL330 logs (kp 100-800) such a net rolls out about twice as far
from the logged motion as an ideal PD. A robot runs each joint at one gain, and the walk-these-ways recipe trains one
net per gain. With ``train.per_gain`` (:class:`~.trainer_cfg.TrainCfg`) a split's runs are grouped by their logged
gain (:func:`gain_of`), one net trains per group, and :class:`PerGainModel` predicts each run with the net of its
gain. Each net exports as an ordinary network file of its kind, ``<name>_kp<gain>.pt`` (:func:`gain_tag`), whose
``source.gain`` names the gain it was trained at: deploy the file of the gain your robot runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.joint_log import JointLog
from ..errors import UserInputError

__all__ = ["PerGainModel", "gain_of", "gain_tag", "group_by_gain", "require_gain"]


def gain_of(log: JointLog) -> float:
    """The run's logged gain (``meta["kp"]``, as logged: raw units).

    Raises:
        UserInputError: when the run has no single ``kp`` in its metadata, or logs a ``kp`` channel that changes.
    """
    kp = log.meta.get("kp")
    if "kp" in log.channels:
        logged = np.asarray(log.channels["kp"], dtype=float)
        finite = logged[np.isfinite(logged)]
        if finite.size and np.ptp(finite) > 0:
            raise UserInputError(
                f"{log.source}: channel 'kp' changes within the run or between its joints ({finite.min():g} to "
                f"{finite.max():g}); train.per_gain needs one gain per run (train one net for all gains, e.g. a "
                "gru_pd, instead)."
            )
        kp = float(finite[0]) if finite.size else kp
    if kp is None or isinstance(kp, dict):
        raise UserInputError(
            f"{log.source}: metadata 'kp' is {kp!r}; train.per_gain groups runs by one number per run "
            "(map the gain with the column map's 'meta' or 'channels' key 'kp')."
        )
    return float(kp)


def group_by_gain(logs: Sequence[JointLog]) -> dict[float, list[JointLog]]:
    """The runs by their gain (:func:`gain_of`), gains ascending, runs in their order."""
    groups: dict[float, list[JointLog]] = {}
    for log in logs:
        groups.setdefault(gain_of(log), []).append(log)
    return dict(sorted(groups.items()))


def require_gain(
    log: JointLog, gains, owner: str = "train.per_gain trains nets", why: str = "no training run has its gain"
) -> float:
    """``log``'s gain, which must be one of ``gains`` (those nets were trained at).

    ``owner`` and ``why`` word the error (who has nets for which gains, and what to do).

    Raises:
        UserInputError: naming the run, when its gain is not among ``gains``.
    """
    gain = gain_of(log)
    if gain not in gains:
        raise UserInputError(
            f"{log.source}: run {log.name} has gain kp = {gain:g}, but {owner} for kp = "
            f"{', '.join(f'{g:g}' for g in sorted(gains))} only ({why})."
        )
    return gain


def gain_tag(gain: float) -> str:
    """``kp<gain>`` (``kp400``, ``kp2.5``): the suffix of a per-gain net's run folder and exported files."""
    return f"kp{gain:g}"


@dataclass
class PerGainModel:
    """Trained nets by gain; a run is predicted (and rolled out) by the net of its gain."""

    models: dict[float, Any]
    """Gain (raw, :func:`gain_of`) -> the :class:`~.actuator_model.ActuatorModel` trained on the runs of that gain."""

    def __post_init__(self) -> None:
        kinds = {m.model_type for m in self.models.values()}
        if not self.models or len(kinds) != 1:
            raise ValueError(f"PerGainModel needs nets of one model type; got {sorted(kinds)}.")

    @property
    def model_type(self) -> str:
        """The nets' model type."""
        return next(iter(self.models.values())).model_type

    @property
    def kind(self):
        """The nets' :class:`~.kinds.ModelKind`."""
        return next(iter(self.models.values())).kind

    def model_for(self, log: JointLog):
        """The net trained at ``log``'s gain (:func:`require_gain`)."""
        return self.models[require_gain(log, self.models)]

    def predict(self, log: JointLog) -> np.ndarray:
        """Torque [N·m] (T,) on a logged run, by the net of its gain."""
        return self.model_for(log).predict(log)

    def stepper_for(self, logs: list[JointLog]) -> _PerGainStepper:
        """Per-step predictor for one row per run in ``logs``: each row is stepped by the net of its run's gain."""
        rows: dict[float, list[int]] = {}
        for i, log in enumerate(logs):
            rows.setdefault(require_gain(log, self.models), []).append(i)
        parts = [(torch.as_tensor(idx), self.models[g].stepper_for([logs[i] for i in idx])) for g, idx in rows.items()]
        return _PerGainStepper(parts)

    def export(
        self,
        out_dir: str | Path,
        name: str,
        source: dict | None = None,
        onnx: bool = True,
        train_runs: list[JointLog] | None = None,
    ) -> dict:
        """Write each net as ``<name>_kp<gain>`` (:func:`~.export.export_model`; ``source.gain`` set); by gain.

        ``train_runs``: the runs of the fold; each file's ``source.train_runs`` then names those of its gain.
        """
        from .export import export_model

        by_gain = group_by_gain(train_runs) if train_runs is not None else {}
        out = {}
        for gain, model in sorted(self.models.items()):
            meta = {**(source or {}), "gain": gain}
            if train_runs is not None:
                meta["train_runs"] = [log.name for log in by_gain.get(gain, [])]
            out[gain] = export_model(model, out_dir, f"{name}_{gain_tag(gain)}", meta, onnx)
        return out


class _PerGainStepper:
    """Steps each gain's rows with that gain's stepper."""

    def __init__(self, parts: list[tuple[torch.Tensor, Any]]):
        self.parts = parts

    def reset(self, n: int) -> None:
        for idx, stepper in self.parts:
            stepper.reset(len(idx))

    def step(self, q: torch.Tensor, qd: torch.Tensor, q_target: torch.Tensor, command=None) -> torch.Tensor:
        tau = torch.empty_like(q)
        for idx, stepper in self.parts:
            sub = {k: v[idx] for k, v in command.items()} if command else None
            tau[idx] = stepper.step(q[idx], qd[idx], q_target[idx], sub)
        return tau

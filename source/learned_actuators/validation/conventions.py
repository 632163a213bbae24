"""Find a third-party MLP actuator net's input convention from a log (no simulator).

A walk-these-ways-style MLP takes ``[s·e_t, s·e_{t-h}, ..., v_t, v_{t-h}, ...]`` (or the velocities first), with
``e = q* - q`` [rad] and ``v = qd`` [rad/s]. The file does not record the sign ``s`` of the position error, the
history spacing ``h`` [s] or the order, and a wrong guess is costly (the issue's user saw 9.8 N·m with the Go1
convention instead of 2.4). :func:`probe_convention` scores every candidate on the logged torque, all on the same
frames, and ranks them::

    from learned_actuators.validation.conventions import probe_convention

    probe = probe_convention("unitree_go1.pt", batch)  # batch: a TrajectoryBatch with a torque label
    print(probe.format())
    print(probe.best.spec("unitree_go1.pt"))  # mlp:unitree_go1.pt,pos_scale=-1,...,input_idx=0,1,2,dt=0.02

The inputs are built as :class:`~learned_actuators.actuators.MLPActuatorNet` builds them (``pos_scale`` is its factor
on ``q* - q``; slot ``k`` is ``k`` net steps ago, a net step being the spacing); a test checks that the two agree.
Spacings are whole multiples of the log period (a 100 Hz log cannot tell 0.015 s from 0.01 or 0.02 s). Probe on
training frames and compare on held-out ones: the probe picks among a few dozen candidates with the torque label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from learned_actuators.errors import UserInputError

from .metrics import torque_errors
from .trajectories import TrajectoryBatch

__all__ = ["Convention", "ProbeResult", "convention_inputs", "input_width", "load_probe_net", "probe_convention"]

ORDERS = ("pos_vel", "vel_pos")
"""Input orders: position errors first, or velocities first (Isaac Lab's ``input_order``)."""


@dataclass(frozen=True)
class Convention:
    """An MLP net's input convention, in :class:`~learned_actuators.actuators.MLPActuatorNetCfg` terms."""

    pos_scale: float
    """Factor on ``q* - q`` fed to the net: ``1`` (``e = q* - q``) or ``-1`` (``e = q - q*``, walk-these-ways)."""
    spacing_s: float
    """History spacing [s] (the cfg's ``network_dt``; 0.02 for a 50 Hz history)."""
    input_order: str
    """``"pos_vel"`` or ``"vel_pos"``."""
    history: int
    """History slots per signal (the input width over 2); slots ``0 .. history - 1`` are fed."""

    @property
    def label(self) -> str:
        """Short description, e.g. ``e=q-q*, 0.02 s, pos_vel``."""
        sign = "e=q*-q" if self.pos_scale > 0 else "e=q-q*"
        return f"{sign}, {self.spacing_s:.4g} s, {self.input_order}"

    def cfg_fields(self) -> dict:
        """The :class:`~learned_actuators.actuators.MLPActuatorNetCfg` fields of this convention."""
        return {
            "pos_scale": float(self.pos_scale),
            "vel_scale": 1.0,
            "torque_scale": 1.0,
            "input_order": self.input_order,
            "input_idx": list(range(self.history)),
            "network_dt": float(self.spacing_s),
        }

    def spec(self, path: str | Path) -> str:
        """The ``--model`` argument of ``scripts/compare_actuators.py`` running the net with this convention."""
        idx = ",".join(str(i) for i in range(self.history))
        kind = "onnx" if str(path).endswith(".onnx") else "mlp"
        return (
            f"{kind}:{path},pos_scale={self.pos_scale:g},input_order={self.input_order},input_idx={idx},"
            f"dt={self.spacing_s:.6g}"
        )


@dataclass
class ProbeResult:
    """Every candidate convention scored on the same frames, best (lowest torque RMSE) first."""

    rows: list[dict]
    """``{"convention", "torque_rmse", "torque_r2", "scale", "scaled_rmse"}`` per candidate, best first; ``scale`` is
    the least-squares factor on the net's torque (far from 1: the units or the torque scale differ too)."""
    frames: int
    """Frames (and joints) every candidate was scored on."""
    notes: list[str] = field(default_factory=list)
    """What the probe could not tell (e.g. spacings finer than the log period)."""

    @property
    def best(self) -> Convention:
        """The convention with the lowest torque RMSE."""
        return self.rows[0]["convention"]

    def format(self, top: int = 10) -> str:
        """The ``top`` candidates as an aligned text table."""
        lines = [f"{'convention':<30}  {'τ RMSE [N·m]':>12}  {'R²':>7}  {'LSQ scale':>9}  {'scaled RMSE':>11}"]
        lines += [
            f"{row['convention'].label:<30}  {row['torque_rmse']:>12.4g}  {row['torque_r2']:>7.3f}  "
            f"{row['scale']:>9.3g}  {row['scaled_rmse']:>11.4g}"
            for row in self.rows[:top]
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready rows (conventions as their cfg fields)."""
        rows = [
            {**r, "convention": {**r["convention"].cfg_fields(), "label": r["convention"].label}} for r in self.rows
        ]
        return {"frames": self.frames, "notes": self.notes, "rows": rows}


def load_probe_net(path: str | Path, convert_dir: str | Path | None = None) -> torch.nn.Module:
    """A TorchScript (``.pt``) or ONNX (``.onnx``, dense MLPs; :mod:`.third_party`) net, ready to call on CPU."""
    from learned_actuators.network_file import NetworkFileError, load_network

    if str(path).endswith(".onnx"):
        from .third_party import onnx_to_torchscript

        path = onnx_to_torchscript(path, convert_dir)
    try:
        net, _ = load_network(path)
    except NetworkFileError as err:
        raise UserInputError(str(err)) from None
    return net


def input_width(net: torch.nn.Module, source: str = "<net>") -> int:
    """The net's input width: the column count of its first weight matrix (a dense MLP's first layer).

    Raises:
        UserInputError: when the net has no 2-D weight or an odd input width (not ``[errors, velocities]``).
    """
    for name, param in net.state_dict().items():
        if param.ndim == 2:
            width = int(param.shape[1])
            if width % 2:
                raise UserInputError(
                    f"{source}: first layer '{name}' takes {width} inputs; an MLP actuator net takes an even number "
                    "(a history of position errors and as many velocities)."
                )
            return width
    raise UserInputError(f"{source}: no weight matrix found; the probe needs a dense MLP (first layer Linear).")


def _steps(spacing_s: float, dt: float, where: str) -> int:
    steps = round(spacing_s / dt)
    if steps < 1 or not math.isclose(steps * dt, spacing_s, rel_tol=1e-3):
        raise UserInputError(
            f"{where}: history spacing {spacing_s:g} s is not a whole multiple of the log period {dt:.6g} s."
        )
    return steps


def convention_inputs(batch: TrajectoryBatch, conv: Convention, valid: np.ndarray | None = None):
    """Net inputs of every frame with a full history, as the MLP actuator builds them.

    Args:
        batch: Logged runs (E, T, J).
        conv: The convention.
        valid: Frames to keep, bool (E, T); default: the batch mask and a full history.

    Returns:
        ``(x, index)``: inputs (N, 2·history) float32 and the (E, T) bool mask of the frames they belong to (row
        order: ``np.nonzero`` order of the mask, joints innermost).
    """
    lag = _steps(conv.spacing_s, batch.dt, "convention")
    first = (conv.history - 1) * lag
    if valid is None:
        valid = batch.mask.copy()
        valid[:, :first] = False
    elif valid[:, :first].any():
        raise ValueError(f"convention_inputs: frames before {first} have no full history at {conv.spacing_s} s.")
    err = conv.pos_scale * (batch.q_target - batch.q)
    e_idx, t_idx = np.nonzero(valid)
    pos = [err[e_idx, t_idx - k * lag] for k in range(conv.history)]  # (N, J) each, slot k = k net steps ago
    vel = [batch.qd[e_idx, t_idx - k * lag] for k in range(conv.history)]
    cols = pos + vel if conv.input_order == "pos_vel" else vel + pos
    x = np.stack(cols, axis=-1).reshape(-1, 2 * conv.history)  # rows: (frame, joint)
    return x.astype(np.float32), valid


def net_torque(net: torch.nn.Module, x: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """The net's output [N·m] for inputs ``x`` (N, width), evaluated in chunks; shape (N,)."""
    with torch.inference_mode():
        out = [net(torch.from_numpy(x[s : s + chunk])).reshape(-1).double().numpy() for s in range(0, len(x), chunk)]
    return np.concatenate(out) if out else np.zeros(0)


def _probe_spacings(batch: TrajectoryBatch, max_spacing_s: float, spacings_s: list[float] | None, notes: list[str]):
    """The spacings to try [s]: ``spacings_s``, else every whole multiple of the log period up to ``max_spacing_s``."""
    if spacings_s is not None:
        return spacings_s
    count = max(1, math.floor(max_spacing_s / batch.dt * (1 + 1e-6)))
    spacings_s = [round(k * batch.dt, 9) for k in range(1, count + 1)]  # 0.02, not 0.019999999999999574
    notes.append(f"spacings tried: multiples of the log period {batch.dt:.4g} s up to {spacings_s[-1]:.4g} s")
    return spacings_s


def _probe_frames(batch: TrajectoryBatch, history: int, spacings_s: list[float]) -> np.ndarray:
    """The (E, T) frames every candidate is scored on: those with a full history at the longest spacing."""
    lags = [_steps(s, batch.dt, f"probe spacing {s:g} s") for s in spacings_s]
    valid = batch.mask.copy()
    valid[:, : (history - 1) * max(lags)] = False  # every candidate on the same frames
    if not valid.any():
        raise UserInputError(
            f"{batch.sources[0]}: runs of {batch.num_steps} samples are too short for a {history}-slot history at "
            f"{max(spacings_s):g} s; lower max_spacing_s."
        )
    return valid


def _score_convention(net, batch: TrajectoryBatch, conv: Convention, valid: np.ndarray, label: np.ndarray) -> dict:
    """One probe row: the net's torque RMSE and R² under ``conv``, and the best output scale with its RMSE."""
    x, _ = convention_inputs(batch, conv, valid)
    tau = net_torque(net, x)
    one = np.ones((1, len(tau), 1), dtype=bool)[..., 0]
    errs = torque_errors(tau[None, :, None], label[None, :, None], one)
    denom = float(tau @ tau)
    scale = float(tau @ label) / denom if denom > 0 else 0.0
    scaled = float(np.sqrt(np.mean((scale * tau - label) ** 2)))
    return {
        "convention": conv,
        "torque_rmse": errs["torque_rmse"],
        "torque_r2": errs["torque_r2"],
        "scale": scale,
        "scaled_rmse": scaled,
    }


def probe_convention(
    network: str | Path | torch.nn.Module,
    batch: TrajectoryBatch,
    max_spacing_s: float = 0.1,
    spacings_s: list[float] | None = None,
) -> ProbeResult:
    """Score every sign × spacing × order on ``batch``'s torque label; best (lowest torque RMSE) first.

    Args:
        network: The net (a TorchScript or ONNX file, or a module taking (N, width) inputs).
        batch: Logged runs with a torque label.
        max_spacing_s: Largest history spacing tried [s] (every whole multiple of the log period up to it).
        spacings_s: The spacings to try instead [s].

    Raises:
        UserInputError: for a log without torque label, a net that is not a dense MLP, a spacing the log cannot give,
            or a log too short for the longest history.
    """
    source = str(network) if isinstance(network, str | Path) else type(network).__name__
    if batch.tau is None:
        raise UserInputError(f"{batch.sources[0]}: field 'tau' (torque label) is missing; the probe scores torques.")
    net = load_probe_net(network) if isinstance(network, str | Path) else network
    history = input_width(net, source) // 2
    notes = []
    spacings_s = _probe_spacings(batch, max_spacing_s, spacings_s, notes)
    valid = _probe_frames(batch, history, spacings_s)
    e_idx, t_idx = np.nonzero(valid)
    label = batch.tau[e_idx, t_idx].reshape(-1)
    rows = [
        _score_convention(net, batch, Convention(sign, float(spacing), order, history), valid, label)
        for spacing in spacings_s
        for sign in (1.0, -1.0)
        for order in ORDERS
    ]
    rows.sort(key=lambda r: r["torque_rmse"] if math.isfinite(r["torque_rmse"]) else math.inf)
    return ProbeResult(rows=rows, frames=int(label.size), notes=notes)

"""The replay's physics step: the decimation (physics steps per log sample), chosen or checked (no simulator).

A log sampled every ``log_dt`` seconds is replayed with a physics step ``log_dt / k``. The step must be at most
``ValidationCfg.max_physics_dt`` (the explicit actuator loop loses accuracy above it) and at least ``min_physics_dt``;
a learned net that records the rate it was trained at (``dt`` of its file) runs once every ``dt / physics step``
physics steps, which must be a whole number. :func:`resolve_decimation` picks the smallest such ``k`` unless the cfg
sets one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["DT_RTOL", "network_dt", "physics_dt", "resolve_decimation"]

DT_RTOL = 1e-6
"""Relative tolerance of the step comparisons (log periods are medians of float time stamps: a 100 Hz log's period
is 0.010000000000000009 s), the tolerance the learned actuators use to test that their dt is a whole multiple."""


def network_dt(actuator_cfg) -> float | None:
    """The rate [s] a learned model runs at (cfg ``network_dt``, else its file's ``dt``); None for other models."""
    if not hasattr(actuator_cfg, "network_dt") or not getattr(actuator_cfg, "network_file", None):
        return None
    if actuator_cfg.network_dt is not None:
        return float(actuator_cfg.network_dt)
    from learned_actuators.network_file import load_network

    _, meta = load_network(actuator_cfg.network_file)
    return float(meta.dt) if meta is not None else None


def _whole_multiple(net_dt: float, dt: float) -> bool:
    ratio = net_dt / dt
    return round(ratio) >= 1 and math.isclose(ratio, round(ratio), rel_tol=DT_RTOL)


def resolve_decimation(log_dt: float, cfg, net_dts: Iterable[float | None] = (), source: str = "<data set>") -> int:
    """Physics steps per log sample: ``cfg.decimation`` (checked) or, when None, the smallest that fits.

    Automatic: the smallest integer ``k`` with ``log_dt / k <= cfg.max_physics_dt`` and every learned net's dt in
    ``net_dts`` (None entries ignored) a whole multiple of ``log_dt / k``.

    Raises:
        ValueError: naming the log rate and the limits when no decimation (or not the given one) fits.
    """
    nets = sorted({float(d) for d in net_dts if d is not None})
    if cfg.decimation is not None:
        k = cfg.decimation
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"ValidationCfg.decimation is {k!r}; expected an integer >= 1 (or None: automatic).")
        _check_step(log_dt, k, cfg, source)
        return k
    first = max(1, math.ceil(log_dt / cfg.max_physics_dt * (1 - DT_RTOL)))
    last = math.floor(log_dt / cfg.min_physics_dt * (1 + DT_RTOL))
    if first > last:
        _check_step(log_dt, first, cfg, source)  # raises: no step within the limits
    for k in range(first, last + 1):
        if all(_whole_multiple(d, log_dt / k) for d in nets):
            return k
    raise ValueError(
        f"{source}: no physics step between {cfg.min_physics_dt:.3g} and {cfg.max_physics_dt:.3g} s divides both the "
        f"log period {log_dt:.6g} s and the learned models' dt {nets} s; resample the log to a rate the models "
        "divide, or set ValidationCfg.decimation (the models then refuse a step they cannot run at)."
    )


def _check_step(log_dt: float, k: int, cfg, source: str) -> None:
    dt = log_dt / k
    if dt > cfg.max_physics_dt * (1 + DT_RTOL):
        needed = math.ceil(log_dt / cfg.max_physics_dt * (1 - DT_RTOL))
        raise ValueError(
            f"{source}: log period {log_dt:.6g} s with decimation {k} gives a physics step of {dt:.6g} s, "
            f"above the largest supported {cfg.max_physics_dt:.6g} s; use decimation >= {needed} (or None: automatic)."
        )
    if dt < cfg.min_physics_dt * (1 - DT_RTOL):
        raise ValueError(
            f"{source}: log rate {1.0 / log_dt:.6g} Hz with decimation {k} needs a physics step of "
            f"{dt:.3g} s, below the smallest supported {cfg.min_physics_dt:.3g} s; the simulator cannot replay at "
            "that rate (downsample the log)."
        )


def physics_dt(log_dt: float, cfg, source: str = "<data set>", net_dts: Iterable[float | None] = ()) -> float:
    """The physics step ``log_dt / decimation`` [s] (:func:`resolve_decimation`)."""
    return log_dt / resolve_decimation(log_dt, cfg, net_dts, source)

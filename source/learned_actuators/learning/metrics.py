"""Torque metrics in physical units and the PNG plots of a training run (written atomically)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .outputs import save_figure

__all__ = ["metrics_of", "plot_curves", "plot_horizon", "plot_prediction", "torque_metrics"]


def torque_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """MSE [N²·m²], RMSE [N·m], MAE [N·m] and R² of flat arrays of predicted and measured torque."""
    pred, true = np.asarray(pred, dtype=np.float64).ravel(), np.asarray(true, dtype=np.float64).ravel()
    if pred.shape != true.shape or pred.size == 0:
        raise ValueError(f"torque_metrics needs two non-empty arrays of equal size; got {pred.shape} and {true.shape}.")
    err = pred - true
    return metrics_of(float(np.mean(err**2)), float(np.mean(np.abs(err))), float(np.var(true)))


def metrics_of(mse: float, mae: float, label_var: float) -> dict[str, float]:
    """MSE, RMSE, MAE and R² from the mean squared and absolute errors and the labels' variance."""
    return {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": mae,
        "r2": float(1.0 - mse / label_var) if label_var > 0 else float("nan"),
    }


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_prediction(path: str | Path, t: np.ndarray, true: np.ndarray, pred: np.ndarray, title: str) -> None:
    """PNG: predicted vs measured torque over time (left) and as a scatter (right)."""
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [3, 1]})
    ax1.plot(t, true, label="measured", lw=1)
    ax1.plot(t, pred, label="predicted", lw=1)
    ax1.set_xlabel("time [s]")
    ax1.set_ylabel("torque [N·m]")
    ax1.legend()
    ax1.set_title(title)
    lim = [float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))]
    ax2.scatter(true, pred, s=2, alpha=0.4)
    ax2.plot(lim, lim, "k--", lw=1)
    ax2.set_xlabel("measured [N·m]")
    ax2.set_ylabel("predicted [N·m]")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)


def plot_curves(path: str | Path, history: dict[str, list[float]]) -> None:
    """PNG: training curves (one line per history key, log scale)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, values in history.items():
        if values and key != "epoch":
            ax.plot(history.get("epoch", range(len(values))), values, label=key)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)


def plot_horizon(path: str | Path, curve: dict, dt: float) -> None:
    """PNG: open-loop position RMSE [rad] against the free-running horizon (``{steps: rmse}``, steps of ``dt``)."""
    plt = _plt()
    steps = sorted(int(k) for k in curve)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([s * dt * 1e3 for s in steps], [curve[str(s)] if str(s) in curve else curve[s] for s in steps], marker="o")
    ax.set_xscale("log")
    ax.set_xlabel("free-running horizon [ms]")
    ax.set_ylabel("position RMSE [rad]")
    ax.set_title("rollout error growth")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)

"""The one-line verdict of a validation report, computed from the per-run numbers (pure Python, no simulator).

The verdict compares the learned models (kind ``"model"``) with the baselines (kind ``"baseline"``: every one
fitted or set from training data only) by the **mean over the held-out runs of the per-run open-loop rollout
position RMSE** [rad]. Oracle rows (kind ``"oracle"``, e.g. a PD fitted on the very runs shown) are reported but
never enter the verdict. A run whose rollout diverged counts as an infinite error, so a model that diverges on any
run cannot win.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

__all__ = ["PER_GAIN_LABEL", "REFERENCE", "Verdict", "against_reference", "compute_verdict", "verdict_labels"]

REFERENCE = "ideal_pd"
"""The floor every learned model must clear: the analytic PD on the logged gains (``kinds`` name it a baseline)."""
PER_GAIN_LABEL = "(one net per gain)"
"""What the sentences add after a model trained with one net per logged gain (``train.per_gain``)."""


def verdict_labels(settings: Mapping) -> dict[str, str]:
    """How the verdict names models: ``"lstm (one net per gain)"`` for those listed in ``per_gain_models``.

    The demo records ``settings["per_gain_models"]``; other models are absent (named by their name).
    """
    return {name: f"{name} {PER_GAIN_LABEL}" for name in settings.get("per_gain_models") or ()}


@dataclass
class Verdict:
    """Which model is best on the held-out runs and by how much."""

    line: str
    """The verdict as one sentence."""
    learned_wins: bool
    """True when the best learned model has a lower mean rollout RMSE than every non-oracle baseline."""
    n_runs: int
    """Number of held-out runs the means are over."""
    best_model: str | None = None
    """Learned model with the lowest mean (None when no learned model was validated)."""
    best_model_mean: float | None = None
    """Its mean per-run rollout position RMSE [rad]."""
    best_baseline: str | None = None
    """Non-oracle baseline with the lowest mean (None when none ran)."""
    best_baseline_mean: float | None = None
    """Its mean per-run rollout position RMSE [rad]."""
    margin: float | None = None
    """``best_baseline_mean - best_model_mean`` [rad]: positive when the learned model wins."""
    margin_relative: float | None = None
    """``margin / best_baseline_mean``: the fraction by which the learned model is lower (negative: higher)."""
    runs_better: int | None = None
    """Runs on which the best learned model has a lower rollout RMSE than the best baseline."""
    excluded: tuple[str, ...] = ()
    """Oracle rows left out of the verdict."""
    metric: str = "mean over runs of the per-run open-loop rollout position RMSE [rad]"
    """What the means are."""
    against_reference: str = ""
    """Every learned model against the reference baseline (:data:`REFERENCE`, the analytic PD with the logged gains)
    as one sentence: which beat it and which do not (empty when the reference did not run)."""

    def to_dict(self) -> dict:
        """JSON-ready form (infinite means as the string ``"inf"``)."""
        out = asdict(self)
        out["excluded"] = list(self.excluded)
        for key in ("best_model_mean", "best_baseline_mean", "margin", "margin_relative"):
            value = out[key]
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return out


def _mean(values: Sequence[float]) -> float:
    vals = [float(v) for v in values]
    if not vals:
        return float("nan")
    if any(not math.isfinite(v) for v in vals):
        return float("inf")
    return sum(vals) / len(vals)


def _fmt(value: float) -> str:
    return f"{value:.3f} rad" if math.isfinite(value) else "diverged"


def _num_runs(per_run: Mapping[str, Sequence[float]], kinds: Mapping[str, str]) -> int:
    """The number of runs every list is over; raises for an unknown or missing kind or lists of different lengths."""
    unknown = {name: kinds.get(name) for name in per_run if kinds.get(name) not in ("model", "baseline", "oracle")}
    if unknown:
        raise ValueError(f"compute_verdict: unknown kinds {unknown}; expected 'model', 'baseline' or 'oracle'.")
    lengths = {name: len(v) for name, v in per_run.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"compute_verdict: per-run lists differ in length {lengths}; compare on the same runs.")
    return next(iter(lengths.values()), 0)


def _loss_reason(model_runs: list[float], model_mean: float, relative: float, better: int, n_runs: int) -> str:
    """Why the best learned model loses: it diverged, by how much it is higher, or on how many runs it is better."""
    if not math.isfinite(model_mean):
        diverged = sum(not math.isfinite(v) for v in model_runs)
        return f"it diverged on {diverged} of {n_runs} runs"
    if math.isfinite(relative):
        return f"{-relative:.0%} higher; better on {better} of {n_runs} runs"
    return f"better on {better} of {n_runs} runs"


def _head_to_head(
    model: str, base: str, clean: dict, means: dict, n_runs: int, excluded: tuple, note: str, labels: Mapping
) -> Verdict:
    """The verdict between the best learned model and the best baseline (per-run errors ``clean``, ``inf`` diverged)."""
    model_mean, base_mean = means[model], means[base]
    shown = labels.get(model, model)
    better = sum(m < b for m, b in zip(clean[model], clean[base], strict=True))
    margin = base_mean - model_mean if math.isfinite(base_mean) or math.isfinite(model_mean) else float("nan")
    relative = margin / base_mean if math.isfinite(base_mean) and base_mean > 0 else float("nan")
    wins = math.isfinite(model_mean) and model_mean < base_mean
    if wins:
        how = f"{abs(relative):.0%} lower" if math.isfinite(relative) else "the baseline diverged"
        line = (
            f"{shown} is best on {n_runs} held-out runs: mean rollout position RMSE {_fmt(model_mean)} vs "
            f"{_fmt(base_mean)} for {base}, the best baseline fitted on training runs only ({how}; better on "
            f"{better} of {n_runs} runs){note}."
        )
    else:
        how = _loss_reason(clean[model], model_mean, relative, better, n_runs)
        line = (
            f"The learned models do not win on {n_runs} held-out runs: {base}, a baseline fitted on training runs "
            f"only, has mean rollout position RMSE {_fmt(base_mean)} vs {_fmt(model_mean)} for the best learned "
            f"model, {shown} ({how}){note}."
        )
    return Verdict(
        line=line,
        learned_wins=wins,
        n_runs=n_runs,
        best_model=model,
        best_model_mean=model_mean,
        best_baseline=base,
        best_baseline_mean=base_mean,
        margin=margin,
        margin_relative=relative,
        runs_better=better,
        excluded=excluded,
    )


def against_reference(
    per_run: Mapping[str, Sequence[float]],
    kinds: Mapping[str, str],
    reference: str = REFERENCE,
    labels: Mapping[str, str] | None = None,
) -> str:
    """One sentence: each learned model's mean rollout RMSE against ``reference``'s, and whether it beats it.

    A model beats the reference when its mean over the runs (diverged runs infinite) is lower. Empty when the
    reference is not among ``per_run``. ``labels``: how to name a model (:func:`verdict_labels`; default its name).
    """
    labels = labels or {}
    if reference not in per_run:
        return ""
    clean = {n: [v if v is not None and math.isfinite(v) else float("inf") for v in r] for n, r in per_run.items()}
    ref_mean, n_runs = _mean(clean[reference]), len(clean[reference])
    parts, losers = [], []
    for name in sorted((n for n in clean if kinds[n] == "model"), key=lambda n: _mean(clean[n])):
        mean = _mean(clean[name])
        better = sum(m < b for m, b in zip(clean[name], clean[reference], strict=True))
        if math.isfinite(mean) and mean < ref_mean:
            how = f"{(ref_mean - mean) / ref_mean:.0%} lower" if math.isfinite(ref_mean) else "the reference diverged"
            parts.append(f"{labels.get(name, name)} {_fmt(mean)} beats it ({how}, better on {better} of {n_runs} runs)")
        else:
            losers.append(name)
            relative = (ref_mean - mean) / ref_mean if ref_mean > 0 else math.nan
            how = _loss_reason(clean[name], mean, relative, better, n_runs)
            parts.append(f"{labels.get(name, name)}{f' {_fmt(mean)}' if math.isfinite(mean) else ''} does not ({how})")
    if not parts:
        return ""
    tail = f"; {', '.join(losers)} {'is' if len(losers) == 1 else 'are'} worse than the plain PD" if losers else ""
    return f"Against {reference} ({_fmt(ref_mean)}, a PD on the logged gains): " + "; ".join(parts) + tail + "."


def compute_verdict(
    per_run: Mapping[str, Sequence[float]], kinds: Mapping[str, str], labels: Mapping[str, str] | None = None
) -> Verdict:
    """The verdict from per-run rollout position RMSEs.

    Args:
        per_run: Per-run rollout position RMSE [rad] by model name, every list over the same runs in the same order
            (a diverged run is ``inf`` or NaN).
        kinds: ``"model"`` (learned, under test), ``"baseline"`` (fitted on training data only) or ``"oracle"``
            (in-sample; ignored) by model name.
        labels: How the sentences name a model (e.g. :func:`verdict_labels`: ``"lstm (one net per gain)"``);
            default its name. The verdict's fields keep the names.

    Raises:
        ValueError: for an unknown kind, a name without a kind, or lists over different numbers of runs.
    """
    n_runs = _num_runs(per_run, kinds)
    labels = labels or {}
    clean = {n: [v if v is not None and math.isfinite(v) else float("inf") for v in r] for n, r in per_run.items()}
    means = {name: _mean(values) for name, values in clean.items()}
    models = sorted((means[n], n) for n in clean if kinds[n] == "model")
    baselines = sorted((means[n], n) for n in clean if kinds[n] == "baseline")
    excluded = tuple(n for n in per_run if kinds[n] == "oracle")
    note = f"; oracle rows ({', '.join(excluded)}) excluded" if excluded else ""
    if not models or n_runs == 0:
        return Verdict(
            line=f"No learned model was validated on {n_runs} runs, so there is no verdict{note}.",
            learned_wins=False,
            n_runs=n_runs,
            excluded=excluded,
        )
    model_mean, model = models[0]
    if not baselines:
        return Verdict(
            line=f"{labels.get(model, model)} has a mean rollout position RMSE of {_fmt(model_mean)} over {n_runs} "
            f"held-out runs; no baseline fitted on training data ran, so nothing to compare with{note}.",
            learned_wins=False,
            n_runs=n_runs,
            best_model=model,
            best_model_mean=model_mean,
            excluded=excluded,
        )
    verdict = _head_to_head(model, baselines[0][1], clean, means, n_runs, excluded, note, labels)
    verdict.against_reference = against_reference(per_run, kinds, labels=labels)
    return verdict

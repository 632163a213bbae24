"""Configuration of actuator-net training (:func:`learned_actuators.learning.trainer.train`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from .kinds import ModelKind, kind_of
from .models_cfg import GRUModelCfg, LSTMModelCfg, MLPModelCfg, PhysicsCfg

__all__ = ["RolloutLossCfg", "TrainCfg"]


@dataclass
class RolloutLossCfg:
    """Multi-step loss: roll the 1-DOF load (known inertia) through the model over a short horizon (GRU-PD only)."""

    enabled: bool = False
    """Add the rollout loss. Needs ``meta["inertia"]`` (and ``mass``/``length`` for a pendulum) in every training run;
    without it the trainer turns the loss off with a note. Default False."""
    horizon_s: float = 0.1
    """Rollout horizon [s]. Default 0.1 s."""
    weight: float = 1.0
    """Weight of the rollout loss relative to the (normalised) torque loss. Default 1."""
    position_scale: float = 0.02
    """Position error [rad] that counts as one unit of loss. Default 0.02 rad."""
    starts_per_window: int = 1
    """Rollout starts per training window (spread over the window). Default 1."""
    horizon_end_s: float | None = None
    """Curriculum: the horizon grows geometrically from ``horizon_s`` (first epoch) to this [s], reached after
    ``curriculum_fraction`` of ``max_epochs`` and held; the best epoch is chosen among the epochs at this horizon.
    Needs windows longer than it (``seq_len_s > burn_in_s + horizon_end_s``). None = a fixed horizon. Default None."""
    curriculum_fraction: float = 0.5
    """Share of ``max_epochs`` over which the curriculum's horizon grows. Default 0.5."""


@dataclass
class TrainCfg:
    """Everything a training run needs besides the data. Units: seconds, N·m, rad."""

    model_type: str = "gru_pd"
    """``"gru_pd"``, ``"lstm"`` or ``"mlp"``."""
    gru: GRUModelCfg = field(default_factory=GRUModelCfg)
    """GRU-PD architecture (``model_type="gru_pd"``)."""
    lstm: LSTMModelCfg = field(default_factory=LSTMModelCfg)
    """LSTM architecture (``model_type="lstm"``)."""
    mlp: MLPModelCfg = field(default_factory=MLPModelCfg)
    """MLP architecture (``model_type="mlp"``)."""
    physics: PhysicsCfg = field(default_factory=PhysicsCfg)
    """Analytic physics of the GRU-PD model (PD, spring, torque-speed curve, friction) and its fit."""
    rollout_loss: RolloutLossCfg = field(default_factory=RolloutLossCfg)
    """Multi-step (rollout) loss of the GRU-PD model."""
    seq_len_s: float = 1.0
    """Training window length [s] (recurrent models; the MLP trains on frames). Default 1 s."""
    stride_s: float | None = None
    """Window stride [s]; None = half a window. Default None."""
    burn_in_s: float = 0.05
    """Start of each window excluded from the loss while the recurrent state settles [s]. Default 0.05 s."""
    batch_size: int = 32
    """Windows per optimiser step (recurrent models). Default 32."""
    max_steps_per_epoch: int | None = None
    """Large data sets (recurrent models): when an epoch at ``batch_size`` would take more optimiser steps than this,
    the batch doubles until it does not (at most ``max_batch_size``) and ``lr`` grows with the square root of the
    batch's growth, with a note (:func:`~learned_actuators.learning.recipe_rules.resolve_recipe`); smaller data
    sets keep ``batch_size`` and ``lr`` as given. None: off. Default None."""
    max_batch_size: int = 256
    """Largest batch ``max_steps_per_epoch`` may grow to [windows]. Default 256."""
    large_data_hidden_size: int | None = None
    """Recurrent kinds on a large data set (when ``max_steps_per_epoch`` grows the batch): the net's hidden size grows
    to this (never shrinks), with the batch's note. A wider net makes up for the fewer, larger optimiser steps: on a
    1000-run bench GRU(32) at batch 128 ends 6 % behind batch-8 training on held-out runs, GRU(64) level with it in
    the same 15-minute fold (docs/training.md, *Training speed on large benches*). None: keep the hidden size as
    given. Default None."""
    frames_per_batch: int = 128
    """Frames per optimiser step (MLP). Default 128."""
    lr: float = 3e-3
    """AdamW learning rate. Default 3e-3."""
    lr_schedule: str = "constant"
    """``"constant"`` or ``"cosine"`` (decay to 1 % of ``lr`` over ``max_epochs``). Default constant."""
    weight_decay: float = 1e-4
    """AdamW weight decay. Default 1e-4."""
    augment_mirror: bool | Literal["auto"] = False
    """Add a mirrored copy of every training run (``q, q*, qd, tau -> -q, -q*, -qd, -tau``): for actuators and loads
    that behave the same in both directions (a pendulum hanging at q = 0 does). ``"auto"``: only when the training
    data says the torque is direction-symmetric (:func:`~learned_actuators.learning.recipe_rules.even_torque_share`),
    with a note when it is not; ``True``: always (a note when the data disagrees). Default False."""
    input_noise: float = 0.0
    """Gaussian noise added to the normalised inputs during training (regularisation) [input std units]. Default 0."""
    ema_decay: float = 0.0
    """Exponential moving average of the weights, updated after every optimiser step with this decay (Polyak
    averaging; 0.999 averages over about the last 1000 steps). When set, the averaged weights are the ones
    evaluated, kept as best and returned. 0: off. Default 0."""
    grad_clip: float = 1.0
    """Gradient-norm clip. Default 1."""
    max_epochs: int = 200
    """Upper bound on epochs. Default 200."""
    patience: int = 30
    """Early stopping: epochs without validation improvement. Default 30."""
    keep_epoch: Literal["best", "last"] = "best"
    """The epoch whose weights the run keeps. ``"best"``: the lowest score (the validation torque RMSE, or without
    validation runs the epoch's training loss), with early stopping after ``patience`` epochs without improvement.
    ``"last"``: the final epoch, for a schedule that anneals the learning rate (``lr_schedule: cosine``): an
    epoch's training loss is a noisy estimate (shuffled windows, random rollout starts), and its lowest value tends
    to pick an earlier epoch taken at a higher learning rate; the score is still logged, there is no early stop.
    Default best."""
    val_ratio: float = 0.15
    """Share of the training runs (whole runs) held out for early stopping when no validation runs are given; 0:
    none, and the best epoch is chosen on the training loss (curve ``sqrt_train_loss``). Default 0.15."""
    seed: int = 0
    """Seed of initialisation, shuffling and dropout. Default 0."""
    ensemble: int = 1
    """Members of a GRU-PD ensemble (:mod:`~learned_actuators.learning.ensemble`): ``K > 1`` trains ``K`` models with
    seeds ``seed .. seed + K - 1`` (``K`` times the training time), evaluates their mean, reports the calibration of
    their spread on the test runs (``within_1sigma``/``within_2sigma``, ``ensemble_std``) and exports them as one
    file whose actuator applies the mean and exposes a per-joint standard deviation. Default 1 (one model)."""
    per_gain: bool = False
    """One net per logged gain (:mod:`~learned_actuators.learning.per_gain`): a split's training runs are grouped by
    their gain (``meta["kp"]``), one net trains per gain (run folder ``<split>/kp<gain>``), each test run is predicted
    by the net of its gain, and each net exports as ``<model>_kp<gain>.pt``. For nets without a gain input (LSTM,
    MLP) on runs of several gains, as the walk-these-ways recipe trains them. A test run whose gain no training run has
    is refused. Not with ``ensemble > 1``. Default False (one net for all gains)."""
    ensemble_bootstrap: bool = False
    """With ``ensemble > 1``: each member trains on the training runs drawn with replacement (the physics fitted once
    on all runs, then fixed); without validation runs the spread's label-noise term is then fitted out of bag (each
    training run predicted by the members that did not draw it). Default False (seeds only)."""
    device: str = "cpu"
    """Torch device. Default cpu."""
    num_threads: int | None = 1
    """Torch CPU threads set for the run (None: leave as is). Default 1: these small nets run fastest on one
    thread, and more threads slow down badly on a busy machine."""
    jobs: int | None = None
    """Fits run side by side by a preset run (``scripts/train_actuator.py``, the main job): each model and baseline on
    each split is one fit, in a forked worker process on one thread (:mod:`~.parallel_fits`); results are those of
    the fits one after another. None: one per CPU core available (at most one per fit); 1: one after
    another in this process. Default None."""
    progress: bool = True
    """Show a tqdm progress bar (with several jobs: one bar over the fits). Default True."""
    tensorboard: bool = True
    """Write tensorboard logs in the run directory. Default True."""
    wandb: bool = False
    """Also log to Weights & Biases (the ``wandb`` extra): curves, hyper-parameters and final metrics, in
    ``<run dir>/wandb``; W&B's own settings apply (``WANDB_MODE=offline`` keeps it local). Default False."""
    wandb_project: str = "learned_actuators"
    """W&B project of the runs. Default ``learned_actuators``."""
    plots: bool = True
    """Write PNG plots in the run directory. Default True."""
    checkpoint_every: int = 10
    """Write the resume checkpoint every this many epochs (and at the end); ``train(..., resume=...)`` and
    ``scripts/train_actuator.py --resume`` continue from the last one. Default 10."""
    fit_frames: int = 500_000
    """Frame budget of the fits that see all frames at once: the physics fit (``physics.fit``), the mirroring check
    (``augment_mirror="auto"``) and the deploy summary's gains use every k-th frame of each training run, k the
    smallest integer that keeps the total within this budget (k = 1, all frames, when the runs hold no more);
    deterministic. A trajectory physics fit and the error-vs-horizon curve of lazily read runs (``data.streaming``)
    use the leading runs within the budget. Memory: about 50 bytes per frame, and about 700 bytes per frame while
    the physics is fitted. Default 500 000."""

    @property
    def kind(self) -> ModelKind:
        """The :class:`~learned_actuators.learning.kinds.ModelKind` of :attr:`model_type`.

        Raises:
            UserInputError: for an unknown model type (naming ``train.model_type`` and the choices).
        """
        return kind_of(self.model_type, "train.model_type")

    @property
    def model_cfg(self):
        """The cfg of the selected architecture (:meth:`ModelKind.model_cfg`)."""
        return self.kind.model_cfg(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-serialisable)."""
        return dataclasses.asdict(self)

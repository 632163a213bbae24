"""Where the training runs come from and how they are split (:class:`DataCfg`, the ``data`` section of a preset)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserInputError

__all__ = ["DataCfg", "check_data_cfg", "shared_path"]


@dataclass
class DataCfg:
    """Where the runs come from and how they are split."""

    reader: str = "demo"
    """``"demo"`` (built-in BAM logs), ``"column_map"``, ``"bench_csv"``, ``"history_npz"`` or ``"torque_profile"``."""
    path: str | None = None
    """Folder (column map, bench CSV) or file/folder of NPZ files. Relative paths resolve against the repository's
    parent when they start with ``../shared`` and against the working directory otherwise."""
    column_map: str | None = None
    """Shipped map name or JSON path (reader ``column_map``)."""
    bench: dict[str, Any] = field(default_factory=dict)
    """:class:`BenchCsvCfg` fields (reader ``bench_csv``)."""
    dt: float | None = None
    """Time step [s] for history NPZ files without a ``dt`` entry."""
    split: str = "groups"
    """``"groups"`` (leave one ``group_key`` value out, one fold per value), ``"runs"`` (whole runs by ``ratios``),
    ``"blocks"`` (contiguous time blocks of every run: by ``ratios``, or the chosen ``test_blocks`` / ``test_span_s``
    held out) or ``"kfold"`` (one fold per block of ``blocks`` contiguous blocks per run; one long log)."""
    group_key: str = "group"
    """Metadata key of the groups (e.g. ``trajectory``, ``group`` = inertia group)."""
    test_groups: list[str] | None = None
    """With ``groups``: only these folds (None = all)."""
    ratios: list[float] = field(default_factory=lambda: [0.7, 0.15, 0.15])
    """Train/val/test shares for ``runs`` and ``blocks`` (not used with ``test_blocks``/``test_span_s``/``kfold``,
    where validation is ``train.val_ratio`` of the training pieces)."""
    blocks: int = 5
    """Contiguous, near-equal blocks per run for ``kfold`` and ``test_blocks``."""
    test_blocks: list[int] | None = None
    """``blocks``: hold out these blocks (indices from 0, of ``blocks`` per run) together; ``kfold``: run only these
    folds (None = all)."""
    test_span_s: list[float] | None = None
    """``blocks``: hold out ``[start, stop)`` [s] from each run's start (e.g. ``[60, 90]``)."""
    gap_s: float = 0.0
    """Frames within this time [s] of the held-out frames are in no split (``blocks``, ``kfold``), so history and
    recurrent context do not straddle the boundary."""
    max_runs: int | None = None
    """Use only N runs (quick looks), sampled across the ``group_key`` groups: the groups take turns (in a seeded
    random order), each giving its next run in a seeded random order, so every group is represented while N allows
    (:func:`~.data_loading.sample_runs`; the same runs for the same ``max_runs_seed``). None: all runs."""
    max_runs_seed: int = 0
    """Seed of the ``max_runs`` sample. Default 0."""
    include_groups: list[str] | None = None
    """Keep only runs whose ``group_key`` value is listed (None = all)."""
    include_joints: list[str] | None = None
    """Keep only these joints of multi-joint logs (None = all)."""
    accept: list[str] = field(default_factory=list)
    """Plausibility checks to waive, by name (see :data:`learned_actuators.data.checks.PLAUSIBILITY_CHECKS`), for
    data that really is unusual: ``outlier``, ``degrees_as_radians``, ``velocity_unit``, ``target_unit``,
    ``time_unit``, ``rate_mismatch``, ``declared_rate``. The error of each check names the value to add here."""
    streaming: bool = False
    """Train on logs larger than memory: the runs are read from their files when needed, one at a time, instead of
    all at once (readers ``torque_profile`` and ``history_npz``; splits ``groups`` and ``runs``). The trainer writes
    the training frames to ``<run dir>/streaming_store`` (about 4·(F + 5) bytes per frame, F the net's inputs; removed
    when the run finishes, reused by a resume) and needs memory for about one run file, ``train.fit_frames`` frames
    and a batch. The trained net equals the in-memory one. Default False."""
    load: dict[str, float] | None = None
    """Known load ``{"inertia": kg·m², "mass": kg, "length": m, "cutoff_hz": Hz}`` for runs without a torque
    label: torque from inverse dynamics (``{"inertia": 1.0}`` gives a torque per unit inertia, i.e. the
    acceleration response, for position-only logs)."""


def shared_path(path: str) -> Path:
    """``path`` with a leading ``../shared`` resolved (``$LEARNED_ACTUATORS_SHARED``, else beside the repository)."""
    p = Path(path)
    if not p.is_absolute() and path.startswith("../shared"):
        env = os.environ.get("LEARNED_ACTUATORS_SHARED")
        base = Path(env) if env else Path(__file__).resolve().parents[3] / ".." / "shared"
        return base / Path(*p.parts[2:])
    return p


def check_data_cfg(cfg: DataCfg) -> None:
    """Checks across ``data`` fields (ratios, split options that apply only to some splits)."""
    if len(cfg.ratios) != 3 or abs(sum(cfg.ratios) - 1.0) > 1e-6 or cfg.ratios[0] <= 0:
        raise UserInputError(
            f"data.ratios={json.dumps(cfg.ratios)}: expected three train/val/test shares that sum to 1 with a "
            "positive training share (e.g. [0.7, 0.15, 0.15])."
        )
    if cfg.test_groups is not None and cfg.split != "groups":
        raise UserInputError(
            f"data.test_groups={json.dumps(cfg.test_groups)} applies only with data.split=groups "
            f"(data.split={cfg.split}); drop it or set data.split=groups."
        )
    chosen = {"test_blocks": cfg.test_blocks, "test_span_s": cfg.test_span_s}
    for key, value in chosen.items():
        allowed = ("blocks", "kfold") if key == "test_blocks" else ("blocks",)
        if value is not None and cfg.split not in allowed:
            raise UserInputError(
                f"data.{key}={json.dumps(value)} applies only with data.split={' or '.join(allowed)} "
                f"(data.split={cfg.split})."
            )
    if cfg.test_blocks is not None and cfg.test_span_s is not None:
        raise UserInputError("data.test_blocks and data.test_span_s both choose the held-out frames; give one.")
    bad = [k for k in cfg.test_blocks or [] if not 0 <= k < cfg.blocks]
    if bad or cfg.test_blocks == []:
        raise UserInputError(
            f"data.test_blocks={json.dumps(cfg.test_blocks)}: expected block indices 0..{cfg.blocks - 1} "
            f"(data.blocks={cfg.blocks} blocks per run)."
        )
    span = cfg.test_span_s
    if span is not None and (len(span) != 2 or not 0 <= span[0] < span[1]):
        raise UserInputError(
            f"data.test_span_s={json.dumps(span)}: expected [start, stop] in seconds from each run's start, "
            "0 <= start < stop (e.g. [60, 90])."
        )
    if cfg.streaming and cfg.split not in ("groups", "runs"):
        raise UserInputError(
            f"data.split={cfg.split} cuts runs into time blocks, which needs them in memory; with data.streaming=true "
            "use data.split=groups or runs (whole runs)."
        )
    if cfg.reader == "column_map" and cfg.path is not None and cfg.column_map is None:
        raise UserInputError("data.reader=column_map needs data.column_map (a shipped map name or a JSON file).")

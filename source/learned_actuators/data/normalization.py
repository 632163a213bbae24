"""Per-feature normalisation statistics (fitted on the training split only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Moments", "Normalizer"]


@dataclass
class Normalizer:
    """``(x - mean) / std`` per feature; ``std`` is the spread of a feature or, for a near-constant one, its magnitude.

    A feature is *near-constant* when its spread over the training data is at most :attr:`REL_SPREAD` of its mean
    magnitude (or at most :attr:`MIN_STD`): a gain ``kp`` that is the same in every training run, say. Dividing by
    such a spread would amplify float32 rounding of the deployed input (``35.0`` carries about ``2e-6`` of rounding
    error; over a spread of ``1e-6`` that is an input error of order 1, once the scaling is folded into a net's first
    layer). Such a feature is centred and divided by ``max(|mean|, 1)`` instead: the net sees about 0 in training,
    and a deployed value that differs by a few percent stays a small input. :attr:`near_constant` flags these
    features; :meth:`notes` words the choice for run records.
    """

    mean: np.ndarray
    std: np.ndarray
    """Divisor per feature: the spread, or ``max(|mean|, 1)`` for a near-constant feature."""
    near_constant: np.ndarray | None = field(default=None)
    """Bool per feature: scaled by its magnitude instead of its spread (None: no feature)."""
    spread: np.ndarray | None = field(default=None)
    """Measured standard deviation per feature (None when not fitted here)."""

    MIN_STD = 1e-6
    """Spreads at or below this count as constant whatever the mean."""
    REL_SPREAD = 1e-3
    """Spreads at or below this fraction of ``|mean|`` count as near-constant: float32 rounding of such an input is
    then above about 1e-4 of its spread."""

    def __post_init__(self):
        self.mean = np.asarray(self.mean, dtype=np.float64)
        self.std = np.asarray(self.std, dtype=np.float64)
        if self.near_constant is None:
            self.near_constant = np.zeros(self.mean.shape, dtype=bool)
        self.near_constant = np.asarray(self.near_constant, dtype=bool)

    @classmethod
    def fit(cls, x: np.ndarray) -> Normalizer:
        """Statistics of ``x`` (N, F) or (N,) over axis 0, ignoring NaN rows (near-constant features: see above)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        x = x[np.isfinite(x).all(axis=1)]
        if len(x) == 0:
            raise ValueError("cannot fit normalisation statistics on zero finite samples.")
        return cls._from_stats(x.mean(axis=0), x.std(axis=0))

    @classmethod
    def from_moments(cls, moments: Moments) -> Normalizer:
        """The statistics :meth:`fit` finds on all rows added to ``moments`` (equal up to float rounding)."""
        if moments.n == 0:
            raise ValueError("cannot fit normalisation statistics on zero finite samples.")
        return cls._from_stats(moments.mean, np.sqrt(moments.m2 / moments.n))

    @classmethod
    def _from_stats(cls, mean: np.ndarray, spread: np.ndarray) -> Normalizer:
        constant = spread <= np.maximum(cls.REL_SPREAD * np.abs(mean), cls.MIN_STD)
        scale = np.where(constant, np.maximum(np.abs(mean), 1.0), spread)
        return cls(mean, scale, constant, spread)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Normalise ``x`` (..., F)."""
        return (x - self.mean) / self.std

    def invert(self, z: np.ndarray) -> np.ndarray:
        """Undo :meth:`apply`."""
        return z * self.std + self.mean

    def notes(self, names: list[str]) -> list[str]:
        """One sentence per near-constant feature (``names``: one per feature), for run records and logs."""
        out = []
        for i in np.flatnonzero(self.near_constant):
            spread = "" if self.spread is None else f", spread {self.spread[i]:.3g}"
            out.append(
                f"input '{names[i]}' is near-constant over the training data (mean {self.mean[i]:.6g}{spread}): "
                f"centred and scaled by its magnitude {self.std[i]:.6g} instead of its spread, so rounding is not "
                "amplified; the net has not learned how it varies."
            )
        return out

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        out = {"mean": self.mean.tolist(), "std": self.std.tolist(), "near_constant": self.near_constant.tolist()}
        if self.spread is not None:
            out["spread"] = np.asarray(self.spread).tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Normalizer:
        """Inverse of :meth:`to_dict` (files of earlier versions have no ``near_constant``/``spread``)."""
        spread = data.get("spread")
        return cls(
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["std"], dtype=np.float64),
            data.get("near_constant"),
            None if spread is None else np.asarray(spread, dtype=np.float64),
        )


class Moments:
    """Count, mean and sum of squared deviations per feature, added chunk by chunk (exact streaming statistics).

    Each chunk's moments come from NumPy over the chunk; chunks are merged with Chan et al.'s pairwise update, so
    the mean and spread equal those of the concatenated rows up to float rounding. Rows with a non-finite value are
    ignored (as :meth:`Normalizer.fit` does).
    """

    def __init__(self, features: int = 0):
        self.n = 0
        self.mean = np.zeros(features)
        self.m2 = np.zeros(features)

    def add(self, x: np.ndarray) -> Moments:
        """Add the rows of ``x`` (N, F) or (N,); returns self."""
        x = np.asarray(x, dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        x = x[np.isfinite(x).all(axis=1)]
        if len(x):
            mean = x.mean(axis=0)
            self.merge(len(x), mean, ((x - mean) ** 2).sum(axis=0))
        return self

    def merge(self, n: int, mean: np.ndarray, m2: np.ndarray) -> Moments:
        """Merge the moments of ``n`` other rows; returns self."""
        if n == 0:
            return self
        if self.n == 0:
            self.n, self.mean, self.m2 = n, np.array(mean, dtype=np.float64), np.array(m2, dtype=np.float64)
            return self
        total = self.n + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.n * n / total)
        self.n = total
        return self

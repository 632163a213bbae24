"""Per-feature normalisation statistics (fitted on the training split only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Normalizer"]


@dataclass
class Normalizer:
    """``(x - mean) / std`` per feature; ``std`` is floored so constant features do not blow up."""

    mean: np.ndarray
    std: np.ndarray

    MIN_STD = 1e-6

    @classmethod
    def fit(cls, x: np.ndarray, min_std: float | None = None) -> Normalizer:
        """Statistics of ``x`` (N, F) or (N,) over axis 0, ignoring NaN rows."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        x = x[np.isfinite(x).all(axis=1)]
        if len(x) == 0:
            raise ValueError("cannot fit normalisation statistics on zero finite samples.")
        floor = cls.MIN_STD if min_std is None else min_std
        return cls(x.mean(axis=0), np.maximum(x.std(axis=0), floor))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Normalise ``x`` (..., F)."""
        return (x - self.mean) / self.std

    def invert(self, z: np.ndarray) -> np.ndarray:
        """Undo :meth:`apply`."""
        return z * self.std + self.mean

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> Normalizer:
        """Inverse of :meth:`to_dict`."""
        return cls(np.asarray(data["mean"], dtype=np.float64), np.asarray(data["std"], dtype=np.float64))

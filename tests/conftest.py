"""Shared test fixtures: paths to the repository and to the shared third-party data."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``../shared/data`` beside the repository (CI has it), or ``$LEARNED_ACTUATORS_SHARED/data``."""
    base = os.environ.get("LEARNED_ACTUATORS_SHARED")
    return (Path(base) if base else REPO_ROOT.parent / "shared") / "data"


@pytest.fixture
def shared_data() -> Path:
    """The shared data folder; tests that need it fail (not skip) when it is missing."""
    path = shared_data_dir()
    assert path.is_dir(), f"shared data not found at {path}; set LEARNED_ACTUATORS_SHARED"
    return path

import pytest

from learned_actuators.newton_drives import BACKEND_ENV


@pytest.fixture(params=["warp", "torch"])
def drive_backend(request, monkeypatch):
    """Run a test with the drive's Warp kernels (what runs on CUDA) and with its CPU torch backend."""
    monkeypatch.setenv(BACKEND_ENV, request.param)
    return request.param

"""Run a command-line script's ``main(argv)`` in-process: ``script_main("train_actuator")(argv)``."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from tests.conftest import REPO_ROOT


def script_main(name: str) -> Callable[[list[str]], int]:
    """The ``main`` of ``scripts/<name>.py`` (the script imported as a module, as the tests run it)."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main

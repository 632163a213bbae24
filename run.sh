#!/usr/bin/env bash
# learned_actuators: one entry point for set-up, the main job, tests and benchmarks.
#
#   ./run.sh setup          create .venv (Python 3.12), install Isaac Lab 3.0 + this package, build offline assets
#   ./run.sh demo [args]    the main job on the built-in data (CPU, offline); outputs under outputs/
#   ./run.sh test [args]    from an empty asset cache: lint, unit tests, a quick main job, integration tests
#   ./run.sh bench NAME     run benchmarks/bench_NAME.py
#   ./run.sh python ...     run the venv's python (e.g. ./run.sh python scripts/train_policy.py ...)
#   ./run.sh freeze         rewrite constraints.txt from the venv (after `./run.sh test` passed on a new install)
#
# Every command runs `setup` first; when everything is installed it returns in seconds. Installs are pinned by
# constraints.txt (the exact versions the tests passed with), so a new upstream release cannot break a fresh set-up.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${LEARNED_ACTUATORS_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
ISAACLAB_REQ="isaaclab[rsl-rl]==3.0.0"
STAMP="$VENV/.learned_actuators-setup"
CONSTRAINTS="$ROOT/constraints.txt"

log() { echo "[run.sh] $*" >&2; }

is_py312() { "$1" -c 'import sys; raise SystemExit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }

find_python312() {
    local candidates=()
    [[ -n "${PYTHON312:-}" ]] && candidates+=("$PYTHON312")
    command -v python3.12 >/dev/null 2>&1 && candidates+=("$(command -v python3.12)")
    local pyenv_root="${PYENV_ROOT:-}"
    if [[ -z "$pyenv_root" ]] && command -v pyenv >/dev/null 2>&1; then pyenv_root="$(pyenv root)"; fi
    [[ -z "$pyenv_root" && -d "$HOME/.pyenv" ]] && pyenv_root="$HOME/.pyenv"
    if [[ -n "$pyenv_root" ]]; then
        [[ -n "${PYENV_VERSION:-}" ]] && candidates+=("$pyenv_root/versions/$PYENV_VERSION/bin/python3.12")
        local v
        for v in "$pyenv_root"/versions/3.12*/bin/python3.12; do [[ -x "$v" ]] && candidates+=("$v"); done
    fi
    local c
    for c in "${candidates[@]}"; do
        if is_py312 "$c"; then echo "$c"; return 0; fi
    done
    cat >&2 <<'MSG'
[run.sh] No Python 3.12 found (Isaac Lab 3.0 requires Python 3.12).
         Tried: $PYTHON312, python3.12 on PATH, $PYENV_VERSION and $(pyenv root)/versions/3.12*.
         Get one with `pyenv install 3.12` (or your OS package manager, e.g. `apt install python3.12-venv`),
         or point PYTHON312 at a python3.12 executable, then run ./run.sh setup again.
MSG
    return 1
}

setup_fingerprint() {
    { echo "$ISAACLAB_REQ"; cat "$ROOT/pyproject.toml"; cat "$CONSTRAINTS" 2>/dev/null || true; } | sha256sum | cut -d' ' -f1
}

setup() {
    local want; want="$(setup_fingerprint)"
    if [[ -x "$PY" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] \
        && "$PY" -c "from learned_actuators.assets.paths import go2_usd_path as p; raise SystemExit(not p().is_file())" 2>/dev/null; then
        return 0
    fi
    local t0=$SECONDS
    if [[ ! -x "$PY" ]] || ! is_py312 "$PY"; then
        local py312; py312="$(find_python312)"
        log "creating $VENV with $py312"
        rm -rf "$VENV"
        "$py312" -m venv "$VENV"
        "$PY" -m pip install --quiet --upgrade pip
    fi
    local pins=(); [[ -f "$CONSTRAINTS" ]] && pins=(-c "$CONSTRAINTS")
    if ! "$PY" -c "import isaaclab, importlib.metadata as m; assert m.version('isaaclab') == '3.0.0'" 2>/dev/null; then
        log "installing $ISAACLAB_REQ (several minutes, ~8 GB the first time)"
        "$PY" -m pip install --quiet "${pins[@]}" "$ISAACLAB_REQ"
    fi
    log "installing learned_actuators (editable, with test and asset extras)"
    "$PY" -m pip install --quiet "${pins[@]}" -e "$ROOT[test,assets]"
    log "building the offline Go2 and ground-plane USD (cached)"
    "$VENV/bin/learned-actuators-assets"
    echo "$want" > "$STAMP"
    log "set-up done in $((SECONDS - t0)) s"
}

# The tests start from nothing every time, as on a user's first run: a new, empty asset cache (the Go2 is
# converted again), Warp kernel, TorchInductor and validation-bench caches, all in one temporary folder that is
# removed afterwards. Nothing a previous run left in the home directory is used.
fresh_caches() {
    TEST_CACHES="$(mktemp -d "${TMPDIR:-/tmp}/learned_actuators_test.XXXXXX")"
    trap 'rm -rf "$TEST_CACHES"' EXIT
    export LEARNED_ACTUATORS_CACHE="$TEST_CACHES/assets"
    export WARP_CACHE_PATH="$TEST_CACHES/warp"
    export TORCHINDUCTOR_CACHE_DIR="$TEST_CACHES/inductor"
    export MPLCONFIGDIR="$TEST_CACHES/matplotlib"
    log "empty caches under $TEST_CACHES"
}

# The inspection-page test opens the page in headless Chromium (Debian's `chromium` package): install it when
# missing and we are root, else stop with a clear message (the test never skips).
ensure_chromium() {
    [[ -n "${CHROMIUM:-}" ]] && return 0
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 && return 0
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing chromium (headless browser for the inspection-page test)"
        apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
    fi
    if ! command -v chromium >/dev/null 2>&1; then
        log "headless Chromium not found: install Debian's chromium package (apt-get install chromium) or set CHROMIUM"
        return 1
    fi
}

run_tests() {
    cd "$ROOT"
    ensure_chromium
    log "ruff"
    "$VENV/bin/ruff" check source scripts tests benchmarks
    "$VENV/bin/ruff" format --check source scripts tests benchmarks
    log "unit tests"
    "$PY" -m pytest -m "unit and not gpu" -q "$@"
    log "main job, quick (same code path as ./run.sh demo)"
    "$PY" scripts/demo.py --quick --out "$TEST_CACHES/demo"
    # One Isaac Lab simulation per process: each integration test module runs in its own pytest process.
    local failed=0 f
    for f in $(grep -rl --include='test_*.py' 'pytest.mark.integration' tests | sort); do
        log "integration: $f"
        "$PY" -m pytest -m "integration and not gpu" -q "$f" "$@" || failed=1
    done
    return $failed
}

cmd="${1:-help}"
shift || true
case "$cmd" in
    setup) setup ;;
    test) fresh_caches; setup; run_tests "$@" ;;
    freeze) setup
        { echo "# Exact versions ./run.sh test passed with (pip constraints, used by ./run.sh setup and docker/Dockerfile)."
          echo "# Refresh: rm -rf .venv && ./run.sh test && ./run.sh freeze, then commit this file."
          "$PY" -m pip freeze --exclude-editable --all | grep -v -E '^(pip|setuptools|wheel)=='; } > "$CONSTRAINTS.tmp"
        mv "$CONSTRAINTS.tmp" "$CONSTRAINTS"
        log "wrote $CONSTRAINTS ($(wc -l < "$CONSTRAINTS") pins)" ;;
    demo) setup; cd "$ROOT"; exec "$PY" scripts/demo.py "$@" ;;
    bench) setup; cd "$ROOT"; name="${1:?usage: ./run.sh bench NAME}"; shift; exec "$PY" "benchmarks/bench_${name}.py" "$@" ;;
    python) setup; cd "$ROOT"; exec "$PY" "$@" ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
esac

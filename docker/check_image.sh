#!/usr/bin/env bash
# Build the project's Docker image and prove it works offline on CPU: the main job, `isaaclab list_envs` and the
# torque-AMP path (a tiny PPO reference policy, its recorded torque profiles, 2 iterations of
# scripts/train_torque_amp.py on them) run in containers without a network. Not part of ./run.sh test (a cold build
# downloads ~8 GB and takes many minutes).
#
#   docker/check_image.sh [--ca-bundle FILE] [--cold | --rebuild] [--image NAME] [--base-image NAME]
#
#   --ca-bundle FILE   CA bundle pip inside the build verifies TLS with (TLS-intercepting / corporate proxy);
#                      also taken from $PIP_CA_BUNDLE. Passed as the BuildKit secret `pip_ca`, never stored.
#   --cold             measure a cold build: remove the image and prune ALL of the daemon's build cache first
#                      (the pip cache mount included; other projects' build cache on this daemon goes too).
#   --rebuild          measure a warm rebuild: remove the image and prune the daemon's layer cache, keeping the
#                      cache mounts (the pip wheelhouse). `docker build --no-cache` would empty those too.
#   --image NAME       tag of the project image (default learned-actuators:check, or $IMAGE)
#   --base-image NAME  Python 3.12 base image (default $BASE_IMAGE, else learned-actuators-base:py3.12-bookworm,
#                      made by docker/make_base_image.sh when missing: needs root and debootstrap)
#
# Environment: DOCKER (docker CLI to use), OUT (where logs go, default /tmp/learned-actuators-docker).
# Prints the build time and image size at the end; exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_BASE="learned-actuators-base:py3.12-bookworm"
BASE_IMAGE="${BASE_IMAGE:-$LOCAL_BASE}"
IMAGE="${IMAGE:-learned-actuators:check}"
CA_BUNDLE="${PIP_CA_BUNDLE:-}"
OUT="${OUT:-/tmp/learned-actuators-docker}"
COLD=0
REBUILD=0

log() { echo "[check_image] $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --ca-bundle) CA_BUNDLE="${2:?--ca-bundle FILE}"; shift 2 ;;
        --cold) COLD=1; shift ;;
        --rebuild) REBUILD=1; shift ;;
        --image) IMAGE="${2:?--image NAME}"; shift 2 ;;
        --base-image) BASE_IMAGE="${2:?--base-image NAME}"; shift 2 ;;
        -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ -z "$CA_BUNDLE" || -s "$CA_BUNDLE" ]] || die "CA bundle '$CA_BUNDLE' is missing or empty"
mkdir -p "$OUT"

# A docker CLI that builds with BuildKit (RUN --mount needs it): buildx if installed, else the classic builder with
# DOCKER_BUILDKIT=1, which only CLIs older than 23 still have (newer ones require buildx).
BUILD=()
for cli in ${DOCKER:-} docker /usr/bin/docker; do
    command -v "$cli" >/dev/null 2>&1 || continue
    if "$cli" buildx version >/dev/null 2>&1; then
        DOCKER="$cli" BUILD=("$cli" buildx build --load)
        break
    fi
    major="$("$cli" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1 || true)"
    if [[ "$major" =~ ^[0-9]+$ ]] && ((major < 23)); then
        DOCKER="$cli" BUILD=(env DOCKER_BUILDKIT=1 "$cli" build)
        break
    fi
done
((${#BUILD[@]})) || die "no docker CLI with BuildKit: install the buildx plugin (Debian: docker-buildx), or set DOCKER"
"$DOCKER" info >/dev/null 2>&1 || die "the Docker daemon does not answer ('$DOCKER info')"
log "building with: ${BUILD[*]}"

if ! "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    if [[ "$BASE_IMAGE" == "$LOCAL_BASE" ]]; then
        log "base image $BASE_IMAGE missing: making it (docker/make_base_image.sh)"
        DOCKER="$DOCKER" "$ROOT/docker/make_base_image.sh" "$BASE_IMAGE"
    else
        log "base image $BASE_IMAGE is not local: the build will pull it"
    fi
fi

if ((COLD)); then
    log "cold build: removing $IMAGE and pruning the build cache"
    "$DOCKER" image rm -f "$IMAGE" >/dev/null 2>&1 || true
    "$DOCKER" builder prune -af >/dev/null
elif ((REBUILD)); then
    log "warm rebuild: removing $IMAGE and pruning the layer cache (the pip wheelhouse stays)"
    "$DOCKER" image rm -f "$IMAGE" >/dev/null 2>&1 || true
    "$DOCKER" builder prune -af --filter type=regular >/dev/null
    "$DOCKER" builder prune -af --filter type=source.local >/dev/null
fi

args=(-f "$ROOT/docker/Dockerfile" -t "$IMAGE" --progress=plain --build-arg "BASE_IMAGE=$BASE_IMAGE")
[[ -n "$CA_BUNDLE" ]] && args+=(--secret "id=pip_ca,src=$CA_BUNDLE")
log "building $IMAGE from $BASE_IMAGE (log: $OUT/build.log)${CA_BUNDLE:+, pip CA bundle $CA_BUNDLE}"
t0=$SECONDS
"${BUILD[@]}" "${args[@]}" "$ROOT" 2>&1 | tee "$OUT/build.log" || die "docker build (see $OUT/build.log)"
build_s=$((SECONDS - t0))
size_bytes="$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")"
size="$(awk -v b="$size_bytes" 'BEGIN { printf "%.1f GB", b / 1e9 }')"
log "built $IMAGE in ${build_s} s, $size"

run() { "$DOCKER" run --rm --network none "$IMAGE" "$@"; }

log "in the container (--network none): where the package and its assets come from"
run bash -c 'set -e
    python -c "import learned_actuators.config as c; print(\"package:\", c.__file__); n = {k: c.shipped_names(k) for k in c.KINDS}; assert all(n.values()), n; print(\"package data:\", n)"
    python -c "from learned_actuators.assets.paths import go2_usd_path as g, ground_plane_usd_path as p; assert g().is_file() and p().is_file(); print(\"assets:\", g(), p())"
    test ! -e config || { echo "unexpected config/ folder in $PWD"; exit 1; }' 2>&1 | tee "$OUT/package.log" \
    || die "package check (see $OUT/package.log)"

quick=()
if run python scripts/demo.py --help | grep -q -- '--quick'; then quick=(--quick); fi
log "in the container (--network none, CPU): python scripts/demo.py --out /tmp/demo ${quick[*]}"
t0=$SECONDS
run bash -c "python scripts/demo.py --out /tmp/demo ${quick[*]} && test -s /tmp/demo/metrics.json && ls /tmp/demo" 2>&1 \
    | tee "$OUT/demo.log" || die "main job (see $OUT/demo.log)"
demo_s=$((SECONDS - t0))

log "in the container (--network none, CPU): isaaclab list_envs"
t0=$SECONDS
run isaaclab list_envs 2>&1 | tee "$OUT/list_envs.log" || die "isaaclab list_envs (see $OUT/list_envs.log)"
list_s=$((SECONDS - t0))
n_tasks="$(grep -c '| LearnedActuators-' "$OUT/list_envs.log" || true)"
((n_tasks > 0)) || die "isaaclab list_envs shows no LearnedActuators-* task"

# The torque-AMP path as the README shows it, in one container (its logs/ are gone afterwards): a 1-iteration PPO
# reference policy on the GRU-PD task (the shipped starter actuator), its torque profiles recorded with
# scripts/play_policy.py, then 2 iterations of torque-AMP on them. Checks the AMP checkpoint holds the discriminator
# and that the style reward was logged. Task ids must be listed by list_envs (the run fails fast otherwise).
REF_TASK="LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-Offline"
AMP_TASK="LearnedActuators-Velocity-Flat-UnitreeGo2-AMP-Offline"
for task in "$REF_TASK" "$AMP_TASK"; do
    grep -q "| $task " "$OUT/list_envs.log" || die "isaaclab list_envs does not list $task"
done
log "in the container (--network none, CPU): torque-AMP: train_policy.py, play_policy.py, train_torque_amp.py"
t0=$SECONDS
run bash -c "set -euo pipefail
    echo '+ python scripts/train_policy.py --task $REF_TASK ...'
    python scripts/train_policy.py --task $REF_TASK --num_envs 4 --max_iterations 1 --device cpu \
        agent.num_steps_per_env=8
    ckpt=\"\$(ls -d logs/rsl_rl/go2_flat_gru_pd/*/model_0.pt | tail -n 1)\"
    echo \"+ python scripts/play_policy.py --checkpoint \$ckpt ...\"
    python scripts/play_policy.py --task $REF_TASK --num_envs 4 --num_steps 300 --device cpu \
        --checkpoint \"\$ckpt\" --record_dir logs/torque_profiles/ref
    ls logs/torque_profiles/ref
    echo '+ python scripts/train_torque_amp.py --task $AMP_TASK ...'
    python scripts/train_torque_amp.py --task $AMP_TASK --torque_motion_files logs/torque_profiles/ref \
        --num_envs 4 --max_iterations 2 --device cpu agent.num_steps_per_env=8 \
        agent.algorithm.discriminator_batch_size=256 2>&1 | tee /tmp/torque_amp_train.log
    grep -q 'amp_style_reward' /tmp/torque_amp_train.log || { echo 'amp_style_reward was not logged'; exit 1; }
    python -c '
import glob, torch
paths = glob.glob(\"logs/rsl_rl/go2_flat_amp_dc/*/model_1.pt\")
assert len(paths) == 1, f\"expected one logs/rsl_rl/go2_flat_amp_dc/*/model_1.pt, found {paths}\"
saved = torch.load(paths[0], map_location=\"cpu\", weights_only=False)
assert \"amp_discriminator_state_dict\" in saved, f\"{paths[0]} has no amp_discriminator_state_dict: {sorted(saved)}\"
print(\"torque-AMP checkpoint:\", paths[0], \"discriminator tensors:\", len(saved[\"amp_discriminator_state_dict\"]))
'" 2>&1 | tee "$OUT/torque_amp.log" || die "torque-AMP path (see $OUT/torque_amp.log)"
amp_s=$((SECONDS - t0))

cat <<EOF

== docker/check_image.sh: passed ==
image:         $IMAGE (from $BASE_IMAGE)
build time:    ${build_s} s$( ((COLD)) && echo " (cold: empty build and pip cache)")$( ((REBUILD)) && echo " (warm: empty layer cache, full pip wheelhouse)")
image size:    $size ($size_bytes bytes)
main job:      ${demo_s} s, scripts/demo.py ${quick[*]:-(full)} finished offline on CPU
list_envs:     ${list_s} s, $n_tasks LearnedActuators-* tasks registered
torque-AMP:    ${amp_s} s, PPO reference (1 it) + 300 recorded steps + train_torque_amp.py (2 it), offline on CPU
logs:          $OUT
EOF

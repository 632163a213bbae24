"""Turn a stock Isaac Lab velocity-task cfg into one that never touches the network."""

from __future__ import annotations

from isaaclab.utils import replace

from learned_actuators.assets.paths import go2_usd_path, ground_plane_usd_path
from learned_actuators.assets.unitree_go2 import require_offline_assets, use_official_assets


def make_offline(env_cfg) -> None:
    """Point the robot, the ground and the lights of a Go2 velocity env cfg at local files, in place.

    Changes only what would be downloaded: the robot USD, the ground (a local plane USD instead of the
    remote ``"plane"`` terrain), the terrain's MDL visual material and the sky light's HDR texture. The
    converter nests the Go2 bodies under ``Robot/Geometry``, hence the recursive contact-sensor regex.
    Does nothing when ``LEARNED_ACTUATORS_GO2_ASSET=official``.
    """
    if use_official_assets():
        return
    require_offline_assets()
    robot = env_cfg.scene.robot
    env_cfg.scene.robot = replace(robot, spawn=replace(robot.spawn, usd_path=str(go2_usd_path())))
    terrain = env_cfg.scene.terrain
    terrain.visual_material = None
    if terrain.terrain_type == "plane":
        terrain.terrain_type = "usd"
        terrain.usd_path = str(ground_plane_usd_path())
    env_cfg.scene.sky_light = None
    env_cfg.scene.contact_forces.prim_path = "{ENV_REGEX_NS}/Robot/.*"
    if getattr(env_cfg.scene, "height_scanner", None) is not None:
        env_cfg.scene.height_scanner.prim_path = "{ENV_REGEX_NS}/Robot/Geometry/base"

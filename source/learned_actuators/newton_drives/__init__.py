"""Newton-native learned actuators: the GRU-PD model as a Warp drive on Newton's actuator interface.

* :class:`DriveGRUPD` — :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator`'s model (PD + spring +
  asymmetric torque-speed curve + Coulomb friction + GRU residual or direct, at the net's own rate, final clip,
  non-finite guard) as Warp kernels; stateful, CUDA-graph safe for any number of steps per graph.
* :data:`SCHEMA_NAME` (``LearnedActuatorsGRUPDDriveAPI``) — USD API schema that makes Newton's USD importer build a
  :class:`DriveGRUPD`; :func:`apply_gru_pd_drive` authors it.

On CUDA devices the drive runs its Warp kernels (graphable); on CPU devices the same math runs as fused torch kernels
on zero-copy views of its Warp arrays (:mod:`.torch_backend`; Warp's CPU backend is serial).

Importing this package registers the USD schema plugin and the Newton actuator component (:func:`register`,
idempotent). USD reads its schema registry once, when the first stage is opened or created, so import this package
**before** any stage is opened in the process. Needs Warp, Newton and OpenUSD (the ``sim`` extra); the CPU backend
also uses :mod:`learned_actuators.actuators.fused_nets` (imported when a drive is finalized on a CPU device).
"""

from .drive_gru_pd import BACKEND_ENV, COMPUTE_BACKENDS, PER_SLOT_PARAMS, DriveGRUPD
from .schema import PLUGIN_DIR, SCHEMA_NAME, apply_gru_pd_drive, register, schema_is_known

__all__ = [
    "BACKEND_ENV",
    "COMPUTE_BACKENDS",
    "PER_SLOT_PARAMS",
    "PLUGIN_DIR",
    "SCHEMA_NAME",
    "DriveGRUPD",
    "apply_gru_pd_drive",
    "register",
    "schema_is_known",
]

register()

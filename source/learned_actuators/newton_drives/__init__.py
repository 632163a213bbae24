"""Newton-native learned actuators: GRU-PD as a Warp drive, LSTM and MLP nets as drives, on Newton's interface.

* :class:`DriveGRUPD` — :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator`'s model (PD + spring +
  asymmetric torque-speed curve + Coulomb friction (constant + load-dependent) + GRU residual or direct, at the net's
  own rate, final clip, non-finite guard) as Warp kernels; stateful, CUDA-graph safe for any number of steps per graph.
* :data:`SCHEMA_NAME` (``LearnedActuatorsGRUPDDriveAPI``) — USD API schema that makes Newton's USD importer build a
  :class:`DriveGRUPD`; :func:`apply_gru_pd_drive` authors it.
* :class:`DriveLSTM`, :class:`DriveMLP` — :class:`~learned_actuators.actuators.LSTMActuatorNet` /
  :class:`~learned_actuators.actuators.MLPActuatorNet` run inside Newton's actuator step (same rate handling, guard
  and clip; torch kernels, graphable on CPU only; see :mod:`.drive_net`), under the schemas of
  :data:`NET_SCHEMA_NAMES`; :func:`apply_net_drive` authors them.

On CUDA devices the drive runs its Warp kernels (graphable); on CPU devices the same math runs as fused torch kernels
on zero-copy views of its Warp arrays (:mod:`.torch_backend`; Warp's CPU backend is serial).

Importing this package registers the USD schema plugin and the Newton actuator component (:func:`register`,
idempotent). USD reads its schema registry once, when the first stage is opened or created, so import this package
**before** any stage is opened in the process. Needs Warp, Newton and OpenUSD (the ``sim`` extra); the CPU backend
also uses :mod:`learned_actuators.actuators.fused_nets` (imported when a drive is finalized on a CPU device).
"""

from .drive_gru_pd import BACKEND_ENV, COMPUTE_BACKENDS, PER_SLOT_PARAMS, DriveGRUPD
from .drive_net import NET_PER_SLOT_PARAMS, DriveLearnedNet, DriveLSTM, DriveMLP
from .schema import (
    NET_SCHEMA_NAMES,
    PLUGIN_DIR,
    SCHEMA_NAME,
    apply_gru_pd_drive,
    apply_net_drive,
    register,
    schema_is_known,
)

__all__ = [
    "BACKEND_ENV",
    "COMPUTE_BACKENDS",
    "NET_PER_SLOT_PARAMS",
    "NET_SCHEMA_NAMES",
    "PER_SLOT_PARAMS",
    "PLUGIN_DIR",
    "SCHEMA_NAME",
    "DriveGRUPD",
    "DriveLSTM",
    "DriveLearnedNet",
    "DriveMLP",
    "apply_gru_pd_drive",
    "apply_net_drive",
    "register",
    "schema_is_known",
]

register()

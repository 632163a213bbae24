"""Self-describing actuator network files: TorchScript with an embedded ``metadata.json``.

One file carries everything a simulator needs to run the net exactly as it was trained, so that a
50 Hz net is never silently run at 200 Hz and a net trained on ``q - q*`` is never fed ``q* - q``.
The trainers write these files (:func:`save_network`); the actuators read them (:func:`load_network`)
and compare the metadata with their cfg (:func:`check_metadata`).

Network contracts (per model type, all TorchScript, one joint per batch row; the model types are the kinds of
:mod:`learned_actuators.learning.kinds`, which write and read these files):

* ``"gru_pd"``: ``forward(x, h) -> (y, h)``, ``x`` of shape (N, 1, F) holding the features named in
  ``features`` (normalised with ``input_mean``/``input_std`` unless ``normalization_in_network``),
  ``h`` of shape (num_layers, N, hidden_size); ``y`` of N elements, the residual ``tau - tau_phys``
  (``mode="residual"``) or the torque (``mode="direct"``), in normalised units
  (``y * output_std + output_mean`` gives N·m) unless ``normalization_in_network``. Has a ``.gru`` submodule.
* ``"lstm"``: Isaac Lab's ``ActuatorNetLSTM`` contract: a ``.lstm`` submodule, ``forward(x, (h, c)) ->
  (tau, (h, c))`` with ``x`` of shape (N, 1, 2) = ``[q* - q, qd]`` and ``tau`` in N·m.
* ``"mlp"``: Isaac Lab's ``ActuatorNetMLP`` contract: ``forward(x) -> tau`` with ``x`` of shape
  (N, 2 * len(input_idx)) holding the position-error and velocity histories in ``input_order``,
  scaled by ``pos_scale``/``vel_scale``; output times ``torque_scale`` is N·m.

Files without metadata (third-party nets) load with ``metadata=None``; the cfg then supplies the
conventions.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
import zipfile
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch

from .errors import UserInputError

logger = logging.getLogger(__name__)

__all__ = [
    "METADATA_FILE_NAME",
    "EnsembleHeads",
    "NetworkFileError",
    "NetworkMetadata",
    "check_metadata",
    "load_network",
    "member_spread",
    "module_scaling",
    "save_network",
]

METADATA_FILE_NAME = "metadata.json"
"""Name of the JSON record inside the TorchScript archive (``torch.jit.save(..., _extra_files=...)``)."""

FORMAT_VERSION = 1

FEATURES = ("q", "q_target", "qd", "pos_error", "tau_pd", "tau_phys", "kp", "kd", "qd_target", "tau_ff")
"""Known per-step features: joint angle [rad], target angle [rad], joint velocity [rad/s], ``q_target - q``
[rad], the PD torque of the whole command [N·m], the physics torque ``tau_phys`` [N·m] (PD saturated by the
torque-speed curve, plus spring and friction), the PD gains, the target velocity [rad/s] and the feed-forward torque
[N·m] of the command. Computed by :func:`learned_actuators.learning.features.step_feature`; new names are appended
(the Newton kernels use the index)."""


def member_spread(member_out: torch.Tensor, scale: float, noise: float, out: torch.Tensor | None = None):
    """The spread of an ensemble's members [N·m], into ``out`` when given.

    The population standard deviation of ``member_out`` over its last dimension (the members) times ``|scale|`` (the
    file's output scale; 1 for outputs in N·m), the label-noise term ``noise`` [N·m] (the file's
    ``member_noise_std``) added in quadrature.
    """
    if out is None:
        out = torch.std(member_out, dim=-1, correction=0)
    else:
        torch.std(member_out, dim=-1, correction=0, out=out)
    if scale != 1.0:
        out.mul_(abs(scale))
    if noise:
        out.square_().add_(noise**2).sqrt_()
    return out


class EnsembleHeads:
    """The member heads of an ensemble file, run by both GRU-PD execution paths.

    An ensemble file (:mod:`learned_actuators.learning.ensemble`) carries the buffers ``member_head_weight``
    (K, K·H), ``member_head_bias`` (K,) and ``member_noise_std`` (1,). After each net step :meth:`update` runs the
    heads on the last GRU layer's hidden rows (normalised outputs, kept in :attr:`out`) and writes their spread
    (:func:`member_spread`); :meth:`sample` gives each row its drawn member's output [N·m].
    """

    def __init__(self, weight, bias, noise: float, scale: float, offset: float, rows: int, device="cpu"):
        self.weight_t = weight.t().contiguous()
        self.bias = bias
        self.noise, self.scale, self.offset = float(noise), float(scale), float(offset)
        self.out = torch.zeros(rows, bias.numel(), device=device)
        """The members' outputs of the last net step (rows, K), normalised units."""

    @property
    def members(self) -> int:
        """Number of members K."""
        return self.bias.numel()

    def update(self, hidden_rows: torch.Tensor, std_out: torch.Tensor) -> None:
        """The heads on ``hidden_rows`` (rows, K·H) into :attr:`out`; their spread [N·m] into ``std_out`` (rows,)."""
        torch.addmm(self.bias, hidden_rows, self.weight_t, out=self.out)
        member_spread(self.out, self.scale, self.noise, out=std_out)

    def sample(self, member: torch.Tensor, out: torch.Tensor) -> None:
        """Each row's output [N·m] from its member ``member`` (rows,) (long): that head's output, scaled and offset."""
        torch.gather(self.out, 1, member.view(-1, 1), out=out.view(-1, 1))
        if self.scale != 1.0 or self.offset != 0.0:
            out.mul_(self.scale).add_(self.offset)


class NetworkFileError(UserInputError):
    """A network file is missing, unreadable, or does not match what its user expects."""


@dataclass
class NetworkMetadata:
    """What an actuator net needs to be run as trained. Stored as ``metadata.json`` inside the file."""

    model_type: str
    """The model kind: ``"gru_pd"``, ``"lstm"``, ``"mlp"`` (:data:`learned_actuators.learning.kinds.KINDS`)."""
    dt: float
    """Time step [s] at which the net was trained (one recurrent step or one history slot)."""
    features: list[str] = field(default_factory=list)
    """Input features in network order (see :data:`FEATURES`)."""
    mode: str = "residual"
    """``"residual"`` (output is ``tau - tau_phys``) or ``"direct"`` (output is the torque). GRU-PD only."""
    hidden_size: int = 0
    """Recurrent hidden size (0 for the MLP)."""
    num_layers: int = 0
    """Recurrent layers (0 for the MLP)."""
    input_idx: list[int] = field(default_factory=list)
    """MLP history slots fed to the net, 0 = now, k = k net steps (``dt``) ago."""
    input_order: str = "pos_vel"
    """MLP input order: ``"pos_vel"`` or ``"vel_pos"``."""
    pos_error_sign: int = 1
    """+1: position error is ``q* - q`` (Isaac Lab); -1: ``q - q*`` (walk-these-ways)."""
    pos_scale: float = 1.0
    vel_scale: float = 1.0
    torque_scale: float = 1.0
    input_mean: list[float] = field(default_factory=list)
    """Per-feature mean used to normalise inputs."""
    input_std: list[float] = field(default_factory=list)
    """Per-feature standard deviation used to normalise inputs."""
    output_mean: float = 0.0
    """Output mean [N·m]."""
    output_std: float = 1.0
    """Output standard deviation [N·m]."""
    normalization_in_network: bool = False
    """True when the net takes raw inputs and returns N·m (normalisation baked in); the stats are then informative."""
    physics: dict[str, Any] = field(default_factory=dict)
    """:class:`~learned_actuators.physics.PhysicsParams` used in training (gains, spring, torque-speed curve)."""
    torque_side: str = "joint"
    """``"joint"`` or ``"motor"``: which side of the transmission the torque label was measured on."""
    joint_names: list[str] = field(default_factory=list)
    """Joints the net was trained for (empty = any)."""
    source: dict[str, Any] = field(default_factory=dict)
    """Free-form provenance: data set, split, metrics, package version."""
    near_constant_inputs: list[int] = field(default_factory=list)
    """Net inputs (indices) that were near-constant over the training data: centred and divided by their magnitude
    (the ``input_std`` entry) instead of their spread, which would amplify rounding (see
    :class:`~learned_actuators.data.normalization.Normalizer`)."""
    notes: list[str] = field(default_factory=list)
    """What the trainer decided for this net and why (near-constant inputs, rollout loss, mirroring)."""
    examples: dict[str, Any] = field(default_factory=dict)
    """Representative inputs from the training data and the trainer's outputs for them: ``inputs`` (N, T, F) the
    module's per-step inputs (T steps from a zero state per row; for the MLP T independent frames), ``outputs`` (N, T)
    what the trainer computed [N·m], ``torque_scale`` [N·m]. :func:`check_examples` replays them at load time."""
    format_version: int = FORMAT_VERSION

    def __post_init__(self):
        _check_field_types(self)
        if not self.model_type.isidentifier():  # the kind itself is checked by whoever runs the file
            raise NetworkFileError(f"metadata 'model_type' is {self.model_type!r}; expected a model kind's name.")
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise NetworkFileError(f"metadata 'features' has unknown names {unknown}; known: {FEATURES}.")
        if not self.dt > 0:
            raise NetworkFileError(f"metadata 'dt' is {self.dt}; expected a positive time step in seconds.")
        if self.pos_error_sign not in (1, -1) or self.input_order not in ("pos_vel", "vel_pos"):
            raise NetworkFileError(
                f"metadata 'pos_error_sign'/'input_order' are {self.pos_error_sign!r}/{self.input_order!r}; "
                "expected +1 or -1 and 'pos_vel' or 'vel_pos'."
            )
        if min(self.input_idx, default=0) < 0 or min(self.hidden_size, self.num_layers) < 0:
            raise NetworkFileError(
                f"metadata 'input_idx'/'hidden_size'/'num_layers' must not be negative; got {self.input_idx}/"
                f"{self.hidden_size}/{self.num_layers}."
            )
        if not self.normalization_in_network and not self.output_std > 0:
            raise NetworkFileError(f"metadata 'output_std' is {self.output_std}; expected a positive number.")

    def to_json(self) -> str:
        """Serialise to JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> NetworkMetadata:
        """Parse JSON, naming ``source`` in any error."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise NetworkFileError(f"{source}: {METADATA_FILE_NAME} is not valid JSON ({err}).") from err
        if not isinstance(data, dict):
            raise NetworkFileError(
                f"{source}: {METADATA_FILE_NAME} must hold a JSON object; got {type(data).__name__}."
            )
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise NetworkFileError(f"{source}: {METADATA_FILE_NAME} has unknown fields {sorted(unknown)}.")
        try:
            return cls(**data)
        except TypeError as err:
            raise NetworkFileError(f"{source}: {METADATA_FILE_NAME} is incomplete ({err}).") from err
        except NetworkFileError as err:
            raise NetworkFileError(f"{source}: {err}") from err


_SCALARS = {"float": (numbers.Real,), "int": (numbers.Integral,), "str": (str,), "bool": (bool,)}
_ITEMS = {"list[str]": (str,), "list[int]": (numbers.Integral,), "list[float]": (numbers.Real,)}


def _check_field_types(metadata: NetworkMetadata) -> None:
    """Raise :class:`NetworkFileError` for a field of the wrong JSON type or a non-finite number."""
    for spec in fields(metadata):
        value, kind = getattr(metadata, spec.name), str(spec.type)
        if kind in _ITEMS:
            ok = isinstance(value, list) and all(_is_a(v, _ITEMS[kind]) for v in value)
        elif kind.startswith("dict"):
            ok = isinstance(value, dict)
        else:
            ok = _is_a(value, _SCALARS.get(kind, (object,)))
        if not ok:
            raise NetworkFileError(f"metadata '{spec.name}' is {value!r}; expected {kind} (numbers finite).")


def _is_a(value, types: tuple) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types) and not (isinstance(value, numbers.Real) and not math.isfinite(value))


def save_network(module: torch.nn.Module, path: str | os.PathLike, metadata: NetworkMetadata) -> None:
    """Script ``module`` (unless already TorchScript) and save it to ``path`` with ``metadata`` embedded."""
    scripted = module if isinstance(module, torch.jit.ScriptModule) else torch.jit.script(module)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.jit.save(scripted, str(path), _extra_files={METADATA_FILE_NAME: metadata.to_json()})


def load_network(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[torch.jit.ScriptModule, NetworkMetadata | None]:
    """Load a TorchScript actuator net and its metadata (None when the file has none) onto ``device``.

    Raises:
        NetworkFileError: if the file is missing, is not a TorchScript archive, or cannot be mapped to ``device``.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise NetworkFileError(f"Actuator network file not found: {path!r}.")
    if not zipfile.is_zipfile(path):
        raise NetworkFileError(
            f"{path}: not a TorchScript archive (expected a file written by torch.jit.save; "
            "a state_dict or pickled nn.Module must be exported with learned_actuators first)."
        )
    extra = {METADATA_FILE_NAME: ""}
    try:
        net = torch.jit.load(path, map_location=device, _extra_files=extra)
    except RuntimeError as err:
        raise NetworkFileError(f"{path}: could not be loaded as TorchScript on device {device!r}: {err}") from err
    net.eval()
    text = extra[METADATA_FILE_NAME]
    if isinstance(text, bytes):
        text = text.decode()
    metadata = NetworkMetadata.from_json(text, source=path) if text else None
    return net, metadata


def check_metadata(metadata: NetworkMetadata, expected: dict[str, Any], source: str) -> None:
    """Compare metadata fields with ``expected`` values (None = don't care); raise on any mismatch.

    Floats compare with a relative tolerance of 1e-6; the error lists every mismatching field with the
    file's value and the expected one.
    """
    problems = []
    for name, want in expected.items():
        if want is None:
            continue
        have = getattr(metadata, name)
        if isinstance(want, float) or isinstance(have, float):
            ok = abs(float(have) - float(want)) <= 1e-6 * max(1.0, abs(float(want)))
        else:
            ok = list(have) == list(want) if isinstance(want, list | tuple) else have == want
        if not ok:
            problems.append(f"'{name}': file has {have!r}, cfg expects {want!r}")
    if problems:
        raise NetworkFileError(f"{source}: network metadata does not match the cfg: " + "; ".join(problems) + ".")


def module_scaling(
    net: torch.nn.Module, n_in: int, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """The affine maps a net's own scaling buffers apply around it: ``x_net = a * x + c``, ``tau = s * y + o``.

    Known buffers (``recurse=False``): ``in_scale``/``out_scale`` (legged_gym: ``x * in_scale``, ``out_scale * y``)
    and ``input_mean``/``input_std``/``output_mean``/``output_std`` (our exported nets:
    ``(x - input_mean) / input_std`` and ``y * output_std + output_mean``). Absent buffers are identities.

    Returns:
        ``(a, c, s, o)``: ``a``, ``c`` of shape ``(n_in,)`` in ``dtype``; ``s``, ``o`` floats.

    Raises:
        NetworkFileError: A buffer has an unexpected number of entries (the message names it, without the file).
    """
    buffers = {name: b.detach().to(dtype).reshape(-1).cpu() for name, b in net.named_buffers(recurse=False)}
    for name in ("in_scale", "input_std", "input_mean"):
        if name in buffers and buffers[name].numel() not in (1, n_in):
            raise NetworkFileError(f"buffer {name!r} has {buffers[name].numel()} entries; expected 1 or {n_in}.")
    for name in ("out_scale", "output_std", "output_mean"):
        if name in buffers and buffers[name].numel() != 1:
            raise NetworkFileError(f"buffer {name!r} has {buffers[name].numel()} entries; expected 1.")
    scale_in, shift_in = torch.ones(n_in, dtype=dtype), torch.zeros(n_in, dtype=dtype)
    if "in_scale" in buffers:
        scale_in = scale_in * buffers["in_scale"]
    if "input_std" in buffers or "input_mean" in buffers:
        std = buffers.get("input_std", torch.ones(1, dtype=dtype))
        mean = buffers.get("input_mean", torch.zeros(1, dtype=dtype))
        scale_in, shift_in = scale_in / std, (shift_in - mean) / std
    scale_out, shift_out = 1.0, 0.0
    if "output_std" in buffers or "output_mean" in buffers:
        scale_out = float(buffers.get("output_std", torch.ones(1))[0])
        shift_out = float(buffers.get("output_mean", torch.zeros(1))[0])
    if "out_scale" in buffers:
        factor = float(buffers["out_scale"][0])
        scale_out, shift_out = scale_out * factor, shift_out * factor
    return scale_in, shift_in, scale_out, shift_out

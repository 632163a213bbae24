"""LSTM actuator net with per-env hidden and cell state, run at the net's own rate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .recurrent_actuator import RecurrentActuatorBase

if TYPE_CHECKING:
    from isaaclab.utils.types import ArticulationActions

    from .lstm_actuator_cfg import LSTMActuatorNetCfg

__all__ = ["LSTMActuatorNet"]


class LSTMActuatorNet(RecurrentActuatorBase):
    r"""LSTM actuator net :cite:`rudin2022learning` fed ``[q* - q, qd]`` once per net step.

    .. math::

        \tau_t, (h_t, c_t) = f\big([q^*_t - q_t,\ \dot q_t], (h_{t-1}, c_{t-1})\big)

    Same contract and DC-motor clip as Isaac Lab's ``ActuatorNetLSTM`` (an equivalent cfg gives the same
    torques), plus: the net runs at its trained rate (output held in between), input/output normalisation from
    the file's metadata when it is not inside the net, a NaN/inf guard (a non-finite input gives zero torque and
    leaves that joint's state as it was, counted in :attr:`nonfinite_input_count`; a non-finite output gives zero
    torque and resets that joint's state, counted in :attr:`nonfinite_output_count`; see
    :class:`~learned_actuators.actuators.LearnedActuatorBase`), and fused kernels.

    State: see :class:`~learned_actuators.actuators.recurrent_actuator.RecurrentActuatorBase`.
    Execution: with ``sim.use_newton_actuators=True`` (Isaac Lab 3's default) the cfg's joints run this class
    inside Newton's actuator step as the drive :class:`~learned_actuators.newton_drives.DriveLSTM` (same torques);
    with False, on Isaac Lab's Python actuator path.
    """

    cfg: LSTMActuatorNetCfg
    model_type = "lstm"
    newton_native_drive = True
    net_output_is_effort = True
    rnn_kind = "lstm"

    def __init__(self, cfg: LSTMActuatorNetCfg, *args, **kwargs):
        super().__init__(cfg, *args, **kwargs)
        if self.metadata is not None and list(self.metadata.features) not in ([], ["pos_error", "qd"]):
            features = self.metadata.features
            raise self._file_error(f"metadata 'features' is {features}; LSTM nets take ['pos_error', 'qd'].")
        self._init_recurrent(2, *self._normalization(2))

    def compute(
        self, control_action: ArticulationActions, joint_pos: torch.Tensor, joint_vel: torch.Tensor
    ) -> ArticulationActions:
        """Effort command [N·m] from the position targets and joint state (all (num_envs, num_joints))."""
        q, qd, q_target = self._guard_inputs(joint_pos, joint_vel, control_action.joint_positions)
        if self._advance():
            shape = (self._num_envs, self.num_joints)
            torch.sub(q_target, q, out=self._input[0].view(shape))
            self._input[1].view(shape).copy_(qd)
            self._begin_net_step()
            self._step(self._input, self._net_output.view(1, -1))
            self._end_net_step()
        self._drop_bad_outputs()
        return self._write_output(control_action, qd)

"""Torque profiles: what a policy did (joint torques, joint and body states) per env, as NPZ or CSV.

* :mod:`.profile`: the NPZ format (keys, shapes, units), validation, :func:`load_npz` / :func:`save_npz`.
* :mod:`.profile_csv`: the CSV layout, :func:`read_csv` / :func:`write_csv`.
* :mod:`.profile_files`: :func:`read_profile` (either form, by suffix), :func:`find_profiles` and the lossless
  CSV <-> NPZ converter :func:`convert`.
* :mod:`.loader`: :class:`TorqueProfile`, sampling at arbitrary times (linear, slerp) on a torch device.
* :mod:`.recorder`: :class:`TorqueProfileRecorder` (simulator-free core) and
  :class:`ArticulationTorqueRecorder` (reads an Isaac Lab articulation during playback).

Nothing here imports Isaac Lab; the articulation recorder only reads attributes of the object it is given.
"""

from .loader import TorqueProfile, TorqueProfileSample, slerp
from .profile import PROFILE_KEYS, TorqueProfileData, TorqueProfileFormatError, load_npz, save_npz, validate_profile
from .profile_csv import read_csv, write_csv
from .profile_files import ConversionError, convert, find_profiles, read_profile
from .recorder import ArticulationTorqueRecorder, TorqueProfileRecorder, read_articulation_frame

__all__ = [
    "PROFILE_KEYS",
    "ArticulationTorqueRecorder",
    "ConversionError",
    "TorqueProfile",
    "TorqueProfileData",
    "TorqueProfileFormatError",
    "TorqueProfileRecorder",
    "TorqueProfileSample",
    "convert",
    "find_profiles",
    "load_npz",
    "read_articulation_frame",
    "read_csv",
    "read_profile",
    "save_npz",
    "slerp",
    "validate_profile",
    "write_csv",
]

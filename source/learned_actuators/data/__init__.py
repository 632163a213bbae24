"""Motor-log readers. Every reader returns :class:`JointLog` runs (pure NumPy/pandas, no simulator).

Readers: :mod:`.column_map` (any log format through a column map: the map in :mod:`.column_map_cfg`, the file
formats in :mod:`.log_tables`, the mapped columns in :mod:`.mapped_signals`), :mod:`.bench_csv`,
:mod:`.history_npz` and :mod:`.torque_profile` (policy-playback profiles; the format is
:mod:`learned_actuators.recording.profile`'s); :mod:`.run_files` finds a reader's runs in a folder. Every reader
applies :mod:`.checks` (:mod:`.format_checks`, :mod:`.plausibility`, :mod:`.unit_checks`); column maps also
:mod:`.cleaning` and :mod:`.joint_meta` (side files, per-joint constants).
"""

from .bench_csv import read_bench_csv, read_bench_folder
from .bench_csv_cfg import BenchCsvCfg
from .checks import PLAUSIBILITY_CHECKS, ImplausibleDataError, check_rates_consistent
from .column_map import ColumnMap, FieldMap, available_column_maps, load_column_map, read_mapped_folder, read_mapped_log
from .demo import DEMO_DATA_DIR, load_demo_logs
from .history_npz import read_history_npz
from .inverse_dynamics import inverse_dynamics_torque, lowpass
from .joint_log import JointLog, LogFormatError
from .normalization import Normalizer
from .splits import Fold, Split, leave_one_group_out, slice_log, split_blocks, split_joints, split_runs
from .synthetic import chirp_command, simulate_reference_actuator, write_bench_csv
from .torque_profile import read_torque_profile, read_torque_profile_npz

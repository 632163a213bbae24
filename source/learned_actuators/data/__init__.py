"""Motor-log readers. Every reader returns :class:`JointLog` runs (pure NumPy/pandas, no simulator)."""

from .bench_csv import read_bench_csv, read_bench_folder
from .bench_csv_cfg import BenchCsvCfg
from .checks import PLAUSIBILITY_CHECKS, ImplausibleDataError, check_rates_consistent
from .column_map import ColumnMap, FieldMap, available_column_maps, load_column_map, read_mapped_folder, read_mapped_log
from .demo import DEMO_DATA_DIR, load_demo_logs
from .history_npz import read_history_npz, read_torque_profile, read_torque_profile_npz
from .inverse_dynamics import inverse_dynamics_torque, lowpass
from .joint_log import JointLog, LogFormatError
from .normalization import Normalizer
from .splits import Fold, Split, leave_one_group_out, slice_log, split_blocks, split_joints, split_runs
from .synthetic import chirp_command, simulate_reference_actuator, write_bench_csv

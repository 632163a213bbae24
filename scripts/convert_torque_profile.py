"""Convert torque profiles between NPZ and CSV (one file or every file under a folder), losslessly.

A folder is searched recursively, so the tree that ``play_policy.py`` writes
(``logs/torque_profiles/<experiment>/<run>_<checkpoint>/env_0000.npz``) converts as a whole; with ``--out`` the
sub-folder layout is kept. Every input is read and checked before any output is written, outputs are written
atomically, and existing files are replaced only with ``--overwrite``. Errors (a bad file, no file found, an
existing output) print one line naming the file and exit with status 2.

Examples:
    python scripts/convert_torque_profile.py logs/torque_profiles/go2_flat/run_model_1499/env_0000.npz  # -> .csv
    python scripts/convert_torque_profile.py logs/torque_profiles --to csv --out csv/   # whole tree
    python scripts/convert_torque_profile.py edited.csv --out edited.npz --overwrite
"""

from __future__ import annotations

import argparse
import sys

from learned_actuators.errors import UserInputError, run_cli
from learned_actuators.recording import convert


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, convert, print the files written."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", help="A .npz/.csv torque profile, or a folder of them (searched recursively).")
    parser.add_argument("--out", default=None, help="Output file or folder (default: beside the input).")
    parser.add_argument("--to", choices=("csv", "npz"), default=None, help="Target format (default: the other one).")
    parser.add_argument("--overwrite", action="store_true", help="Replace existing output files.")
    args = parser.parse_args(argv)
    try:
        written = convert(args.src, args.out, to=args.to, overwrite=args.overwrite)
    except (FileNotFoundError, FileExistsError) as err:
        raise UserInputError(str(err)) from err
    for path in written:
        print(path)
    print(f"{len(written)} file(s) written")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))

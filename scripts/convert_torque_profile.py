"""Convert torque profiles between NPZ and CSV (one file or every file in a folder), losslessly.

Examples:
    python scripts/convert_torque_profile.py logs/torque_profiles/env_0000.npz          # -> env_0000.csv
    python scripts/convert_torque_profile.py logs/torque_profiles --to csv --out csv/   # whole folder
    python scripts/convert_torque_profile.py edited.csv --out edited.npz --overwrite
"""

from __future__ import annotations

import argparse
import sys

from learned_actuators.recording import TorqueProfileFormatError, convert


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, convert, print the files written."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", help="A .npz/.csv torque profile, or a folder of them (not recursive).")
    parser.add_argument("--out", default=None, help="Output file or folder (default: beside the input).")
    parser.add_argument("--to", choices=("csv", "npz"), default=None, help="Target format (default: the other one).")
    parser.add_argument("--overwrite", action="store_true", help="Replace existing output files.")
    args = parser.parse_args(argv)
    try:
        written = convert(args.src, args.out, to=args.to, overwrite=args.overwrite)
    except (TorqueProfileFormatError, FileNotFoundError, FileExistsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(f"{len(written)} file(s) written")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write docs/reference.md (every column-map, side-file, preset and override key) from the code that declares them.

Usage: ``python scripts/make_reference.py`` (writes the file) or ``--check`` (exit 1 when the file is out of date).
"""

import argparse
import sys
from pathlib import Path

from learned_actuators.atomic_io import atomic_write_text
from learned_actuators.reference import render_reference

DEFAULT = Path(__file__).resolve().parents[1] / "docs" / "reference.md"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT, help="file to write (default: docs/reference.md)")
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date")
    args = parser.parse_args(argv)
    text = render_reference()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
        if current != text:
            print(f"{args.out} is out of date: run python scripts/make_reference.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    atomic_write_text(args.out, text)
    print(f"wrote {args.out} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

r"""Build the Go2 GRU-PD starter model (maintainer tool): train it to reproduce the walk-these-ways Go1 net.

Reads the third-party Go1 net and the Go2 deployment logs from the shared data folder (``--shared``, default
``$LEARNED_ACTUATORS_SHARED/data`` or ``../shared/data`` beside the repository), trains the model with the package's
trainer (:mod:`learned_actuators.learning.go2_starter`) and writes, atomically, into ``--out`` (default: the package
data folder ``source/learned_actuators/models/go2_starter/``):

* ``go2_starter_gru_pd.pt``: TorchScript + metadata; ``metadata.source`` holds the provenance (source files and
  their sha256, commit, training data, agreement with the Go1 net in N·m on held-out sequences);
* ``PROVENANCE.md``: the same, for people; ``LICENSE``: the MIT notices of walk-these-ways and walk-these-ways-go2.

An existing model is kept unless ``--force``. The shipped model does not need the shared folder at run time.

Example::

    python scripts/make_go2_starter.py --force          # rebuild the shipped model (about 5 min on 2 CPU cores)
    python scripts/make_go2_starter.py --out /tmp/starter --epochs 20
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

from learned_actuators.atomic_io import atomic_write_text
from learned_actuators.data.column_map import read_mapped_folder
from learned_actuators.errors import UserInputError, run_cli
from learned_actuators.learning import go2_starter as starter
from learned_actuators.learning.export import export_torchscript
from learned_actuators.models import GO2_STARTER_NAME

REPO = Path(__file__).resolve().parent.parent
MAX_BYTES = 1_000_000


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("+uncommitted" if dirty.strip() else "")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_shared = Path(os.environ.get("LEARNED_ACTUATORS_SHARED", REPO.parent / "shared")) / "data"
    parser.add_argument("--shared", type=Path, default=default_shared, help="shared data folder (nets/, go2_logs/)")
    parser.add_argument("--out", type=Path, default=REPO / "source/learned_actuators/models/go2_starter")
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace an existing model in --out")
    args = parser.parse_args(argv)
    net_path = args.shared / "nets" / "unitree_go1.pt"
    licence_path = args.shared / "nets" / "LICENSE.walk-these-ways"
    logs_dir = args.shared / "go2_logs"
    for path in (net_path, licence_path, logs_dir / "LICENSE"):
        if not path.is_file():
            raise UserInputError(f"{path}: not found (--shared {args.shared}: the shared third-party data folder).")
    target = args.out / GO2_STARTER_NAME
    if target.exists() and not args.force:
        raise UserInputError(f"{target}: exists; pass --force to replace it (or another --out).")
    go2_logs = read_mapped_folder(logs_dir, "wtw_go2_pickle")
    cfg = starter.starter_train_cfg(max_epochs=args.epochs, hidden_size=args.hidden, seed=args.seed)
    model, record = starter.build_starter(starter.load_go1_net(net_path), go2_logs, cfg)
    files = {"nets/unitree_go1.pt": starter.file_sha256(net_path)}
    for log in go2_logs:
        files[str(Path(log.source).relative_to(args.shared))] = starter.file_sha256(log.source)
    record.update(files=files, commit=_commit())
    args.out.mkdir(parents=True, exist_ok=True)
    export_torchscript(model, target, source=record)
    if target.stat().st_size > MAX_BYTES:
        raise RuntimeError(f"{target}: {target.stat().st_size} bytes; the shipped model must stay under 1 MB.")
    atomic_write_text(args.out / "PROVENANCE.md", starter.provenance_markdown(record))
    notices = [licence_path.read_text(encoding="utf-8").split("\n\nSee licenses/")[0].rstrip()]
    notices.append((logs_dir / "LICENSE").read_text(encoding="utf-8").rstrip())
    header = (
        "The Go2 starter model is derived from the walk-these-ways Unitree Go1 actuator net (Improbable-AI/"
        "walk-these-ways) and trained on sequences from the walk-these-ways-go2 logs (Teddy-Liao/walk-these-ways-go2)."
        "\nTheir licences follow.\n"
    )
    atomic_write_text(args.out / "LICENSE", header + "\n---\n\n".join(["", *notices]) + "\n")
    print(json.dumps(record["agreement_Nm"], indent=2))
    print(f"wrote {target} ({target.stat().st_size} bytes), PROVENANCE.md, LICENSE")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))

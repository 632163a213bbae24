"""The key reference (``docs/reference.md``), generated from the code that declares the keys.

Every column-map key, metadata side-file key, preset key (``data.*``, ``train.*``, ``models.<type>.*``) and override
is a field of a dataclass whose docstring (the string literal under the field, read with :mod:`ast`) describes it;
its type comes from the annotation, its default from the field, its allowed values from
:func:`~learned_actuators.learning.cfg_checks.checks_of`; the shipped presets are listed with the first sentence of
their description (the comment at the top of each YAML file). Lists of names (log formats, units, channels, glitch
fields, plausibility checks) come from the dicts the readers use. ``scripts/make_reference.py`` writes the file; a
unit test fails when the committed file differs from :func:`render_reference`, so the docs cannot drift from the
code. A field without a docstring is an error here.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import re
import textwrap
from typing import Any

__all__ = ["Key", "dataclass_keys", "field_docs", "render_reference"]

_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


@dataclasses.dataclass
class Key:
    """One documented key."""

    name: str
    type: str
    default: str
    allowed: str
    doc: str


def field_docs(cls) -> dict[str, tuple[str, str]]:
    """``{field: (annotation text, docstring)}`` of a dataclass, read from its source with :mod:`ast`.

    Raises:
        ValueError: a field without a docstring (a string literal right under it).
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    out = {}
    for i, node in enumerate(body):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        nxt = body[i + 1] if i + 1 < len(body) else None
        doc = None
        if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
            doc = inspect.cleandoc(nxt.value.value)
        out[node.target.id] = (ast.unparse(node.annotation), doc)
    missing = [f.name for f in dataclasses.fields(cls) if out.get(f.name, (None, None))[1] is None]
    if missing:
        raise ValueError(f"{cls.__module__}.{cls.__qualname__}: fields without a docstring: {missing}.")
    return out


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _text(value: Any) -> str:
    if value is dataclasses.MISSING:
        return "required"
    return json.dumps(value, ensure_ascii=False)


def _target(role: str, name: str) -> str:
    name = "".join(name.split())
    return name.split(".")[-1] if "`~" in role else name


def _allowed(check) -> str:
    """Range and choices of a field in words (:class:`~learned_actuators.learning.cfg_checks.Check`)."""
    if check is None:
        return ""
    text = check.describe().strip()
    text = "" if text == "a value" else text
    return f"{text}, non-empty" if text and check.nonempty else text or ("non-empty" if check.nonempty else "")


def _markdown(doc: str) -> str:
    """One table cell: Sphinx roles and double back-ticks to Markdown code, one line, pipes escaped."""
    doc = _ROLE.sub(lambda m: f"`{_target(m.group(0), m.group(1))}`", doc)
    doc = doc.replace("``", "`")
    return " ".join(doc.split()).replace("|", "\\|")


def dataclass_keys(cls, prefix: str = "", skip: tuple[str, ...] = ()) -> list[Key]:
    """The keys of a cfg dataclass (nested dataclass fields expanded as ``prefix.field.sub``)."""
    from .learning.cfg_checks import checks_of

    docs = field_docs(cls)
    checks = checks_of(cls)
    keys = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        annotation, doc = docs[f.name]
        default = _default(f)
        if dataclasses.is_dataclass(default):
            keys.append(Key(f"{prefix}{f.name}", annotation, "see below", "", doc))
            keys += dataclass_keys(type(default), f"{prefix}{f.name}.")
            continue
        keys.append(Key(f"{prefix}{f.name}", annotation, _text(default), _allowed(checks.get(f.name)), doc))
    return keys


def _table(keys: list[Key]) -> list[str]:
    lines = ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
    for k in keys:
        kind, default = k.type.replace("|", "\\|"), k.default.replace("|", "\\|")
        default = default if default == "see below" else f"`{default}`"
        lines.append(f"| `{k.name}` | `{kind}` | {default} | {_markdown(k.allowed)} | {_markdown(k.doc)} |")
    return lines


def _names(title: str, items: dict[str, str]) -> list[str]:
    lines = [f"| {title} | meaning |", "|---|---|"]
    lines += [f"| `{name}` | {_markdown(text)} |" for name, text in items.items()]
    return lines


def _column_map_section() -> list[str]:
    from .data.cleaning import GLITCH_FIELDS
    from .data.column_map import FORMAT_DOCS, UNIT_SCALE, ColumnMap, FieldMap
    from .data.joint_meta import CHANNELS, SIDE_FILE_KEYS

    return [
        "## Column maps",
        "",
        "A column map is a JSON object (`data.column_map`; shipped maps in `learned_actuators/config/column_maps/`)"
        " read by `learned_actuators.data.column_map` (class `ColumnMap`).",
        "",
        *_table(dataclass_keys(ColumnMap, skip=("source",))),
        "",
        "### Field entries (`position`, `target`, `velocity`, `time`, `torque`, `channels.*`)",
        "",
        "A column name, a list of names (one per joint) or an object with these keys (class `FieldMap`):",
        "",
        *_table(dataclass_keys(FieldMap)),
        "",
        "Units: " + ", ".join(f"`{u}`" for u in UNIT_SCALE) + ".",
        "",
        "### Log formats (`format`)",
        "",
        *_names("format", FORMAT_DOCS),
        "",
        "### Channels, glitch fields, side files",
        "",
        *_names("channel", {k: f"per-step column in {v}" for k, v in CHANNELS.items()}),
        "",
        "Glitch fields (`glitches`): " + ", ".join(f"`{g}`" for g in GLITCH_FIELDS) + ".",
        "",
        "Metadata side file (`meta_file`, one per log) keys, each overriding the column-map key of the same name for"
        " that log: " + ", ".join(f"`{k}`" for k in SIDE_FILE_KEYS) + ".",
    ]


def _preset_description(name: str) -> str:
    """First sentence of a shipped preset's description (the comment lines at the top of its YAML file)."""
    from .config import shipped_file

    lines = shipped_file("presets", name).read_text(encoding="utf-8").splitlines()
    text = " ".join(line.lstrip("# ").strip() for line in lines if line.startswith("#") and "@package" not in line)
    return text.split(". ")[0].rstrip(".") + "."


def _preset_section() -> list[str]:
    from .config import shipped_names
    from .data.bench_csv_cfg import BenchCsvCfg
    from .data.checks import PLAUSIBILITY_CHECKS
    from .learning.cfg_checks import model_types
    from .learning.data_cfg import DataCfg
    from .learning.trainer_cfg import TrainCfg

    kinds = "|".join(model_types())
    return [
        "## Presets and overrides",
        "",
        "A preset (`scripts/train_actuator.py --preset NAME|FILE`) has the sections `data`, `train` and `models`"
        f" (`models.<{kinds}>.*`: the `train` keys that differ for one model kind; the kinds listed are trained)."
        " The shipped presets are the Hydra config group `preset` (`learned_actuators/config/preset/*.yaml`); a"
        " preset inherits others through its defaults list (`defaults: [recipe_gru_pd, _self_]`; in a JSON file also"
        ' `"extends": "recipe_gru_pd"`). Every key below is also a command-line override in Hydra\'s grammar'
        " (`train.gru.hidden_size=64`, `data.test_groups=[up_and_down]`, `+models.mlp.lr=0.01` adds a key a"
        " section does not set, `~models.lstm` drops a model); `--multirun train.seed=0,1,2` runs one job per value."
        " Values are type-checked against the field (structured configs generated from the cfg dataclasses) and"
        " checked against the allowed values before any work; a `train.*` override also replaces that key in the"
        " `models.<kind>` sections that set it.",
        "",
        *_names("shipped preset", {name: _preset_description(name) for name in shipped_names("presets")}),
        "",
        "### `data`",
        "",
        *_table(dataclass_keys(DataCfg, "data.")),
        "",
        "### `data.bench` (reader `bench_csv`)",
        "",
        *_table(dataclass_keys(BenchCsvCfg, "data.bench.")),
        "",
        "### `data.accept` values",
        "",
        *_names("check", PLAUSIBILITY_CHECKS),
        "",
        "### `train` (and `models.<kind>`)",
        "",
        *_table(dataclass_keys(TrainCfg, "train.")),
    ]


def _validation_section() -> list[str]:
    from .validation.validation_cfg import ValidationCfg

    return [
        "## Validation overrides",
        "",
        "`scripts/validate_actuator.py` and `scripts/compare_actuators.py` take `ValidationCfg` fields as Hydra"
        " overrides (`decimation=2`, `baselines=[ideal_pd,dc_motor]`, `benches=[{mass:0.5,length:0.1}]`), checked"
        " the same way before any work.",
        "",
        *_table(dataclass_keys(ValidationCfg)),
    ]


def _excitation_section() -> list[str]:
    from .excitation.plan_cfg import ExcitationCfg
    from .excitation.robot_backend import RobotBackendCfg
    from .excitation.sim_backend import SimBackendCfg

    return [
        "## Excitation overrides",
        "",
        "`scripts/excite_go2.py` takes `ExcitationCfg` fields (the plan), `sim.<field>` (simulator backend) and"
        " `robot.<field>` (Unitree SDK backend) as Hydra overrides (`amplitude.calf=0.3`, `kp=30 kp.calf=35`,"
        " `robot.limits.position_margin=0.08`), checked before anything moves.",
        "",
        *_table(dataclass_keys(ExcitationCfg)),
        "",
        *_table(dataclass_keys(SimBackendCfg, "sim.")),
        "",
        *_table(dataclass_keys(RobotBackendCfg, "robot.")),
    ]


def render_reference() -> str:
    """The Markdown text of ``docs/reference.md``."""
    lines = [
        "# Key reference",
        "",
        "<!-- Generated by scripts/make_reference.py from the code; do not edit (tests/test_reference.py checks it)."
        " -->",
        "",
        *_column_map_section(),
        "",
        *_preset_section(),
        "",
        *_validation_section(),
        "",
        *_excitation_section(),
    ]
    return "\n".join(lines) + "\n"

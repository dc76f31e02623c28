"""User settings from ``config.yaml`` in the user folder, with defaults.

banks: [~/my-cards]        # extra card folders, merged with the bundled bank
day_rollover_hour: 4       # a review before 04:00 counts for the previous day
new_per_day: 10            # new cards introduced a day
review_cap: 100            # most reviews scheduled in one day
scheduler: sm2             # sm2 (default) or fsrs; switching replays the review log
desired_retention: 0.9     # fsrs only: recall probability at which a card comes due (0.70-0.97)
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dlprep import paths
from dlprep.errors import DlprepError

SCHEDULERS = ("sm2", "fsrs")
RETENTION_RANGE = (0.7, 0.97)


@dataclass(frozen=True)
class Config:
    banks: list[str] = field(default_factory=list)
    day_rollover_hour: int = 4
    new_per_day: int = 10
    review_cap: int = 100
    scheduler: str = "sm2"
    desired_retention: float = 0.9

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> Config:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DlprepError(f"{source}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
        banks = data.get("banks", [])
        if not isinstance(banks, list) or not all(isinstance(b, str) for b in banks):
            raise DlprepError(f"{source}: 'banks' must be a list of folder paths")
        ints = {"day_rollover_hour": (0, 23), "new_per_day": (0, 1000), "review_cap": (1, 10000)}
        values: dict[str, Any] = {"banks": banks}
        for name, (lo, hi) in ints.items():
            value = data.get(name, getattr(cls, name))
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise DlprepError(f"{source}: {name!r} must be a whole number from {lo} to {hi}, got {value!r}")
            values[name] = value
        scheduler = data.get("scheduler", cls.scheduler)
        if scheduler not in SCHEDULERS:
            raise DlprepError(f"{source}: 'scheduler' must be one of {', '.join(SCHEDULERS)}, got {scheduler!r}")
        retention = data.get("desired_retention", cls.desired_retention)
        lo, hi = RETENTION_RANGE
        if isinstance(retention, bool) or not isinstance(retention, int | float) or not lo <= retention <= hi:
            raise DlprepError(f"{source}: 'desired_retention' must be a number from {lo} to {hi}, got {retention!r}")
        return cls(**values, scheduler=scheduler, desired_retention=float(retention))


def load_config(path: Path | None = None) -> Config:
    path = path or paths.config_path()
    if not path.exists():
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DlprepError(f"{path}: cannot read config: {exc}") from None
    data = _parsed(path, text)
    if data is None:
        return Config()
    if not isinstance(data, dict):
        raise DlprepError(f"{path}: config must be a mapping of settings")
    return Config.from_dict(data, source=str(path))


def _parsed(path: Path, text: str) -> Any:
    """The YAML of config.yaml, parsed. The result is kept in the cache folder
    beside the exact text it came from, so an unchanged config (every command
    reads it) costs no PyYAML import; any edit means a fresh parse."""
    import json

    cache = paths.cache_dir() / "config.json"
    with contextlib.suppress(Exception):
        kept = json.loads(cache.read_text(encoding="utf-8"))
        if kept["text"] == text:
            return kept["data"]
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise DlprepError(f"{path}{where}: invalid YAML in config") from None
    try:
        body = json.dumps({"text": text, "data": data})
    except (TypeError, ValueError):  # a value JSON cannot hold (a date): parse it each time
        return data
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:  # read-only or full: no cache, and no half-written file left behind
        with contextlib.suppress(OSError):
            tmp.unlink()
    return data


def bank_dirs(config: Config, path: Path | None = None) -> list[Path]:
    """The configured extra bank folders as absolute paths. A relative path in
    config.yaml is relative to the config file's folder, not to wherever dlprep
    happens to be run from."""
    base = (path or paths.config_path()).parent
    return [p if p.is_absolute() else base / p for p in (Path(b).expanduser() for b in config.banks)]


def check_banks(folders: list[Path]) -> None:
    """Refuse bank folders exactly as loading would: missing, not a folder, or invalid cards."""
    for d in folders:
        if not d.is_dir():
            raise DlprepError(f"{d}: bank folder does not exist" if not d.exists() else f"{d}: not a folder")
    from dlprep.core.bank import check_bank

    _, problems = check_bank(folders=[paths.bundled_bank_dir(), *folders])
    if problems:
        more = f" (and {len(problems) - 1} more; run `dlprep validate {folders[0]}`)" if len(problems) > 1 else ""
        raise DlprepError(f"{problems[0]}{more}")


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write the settings that differ from the defaults (atomically). A folder
    that cannot be written (read-only, not a folder, disk full) is one clear
    error, and no temporary file is left behind."""
    import os

    import yaml

    path = path or paths.config_path()
    default = Config().to_dict()
    data = {k: v for k, v in config.to_dict().items() if v != default[k]}
    tmp = path.with_suffix(".yaml.tmp")
    body = yaml.safe_dump(data, sort_keys=False) if data else ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text("# dlprep settings (see `dlprep config --help`)\n" + body, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise DlprepError(f"{path}: cannot save settings ({exc.strerror or exc})") from None
    return path


def parse_setting(key: str, value: str) -> Any:
    """A command-line value for a setting: whole numbers, a number for
    desired_retention, a name for scheduler, or a comma-separated list of
    folders for banks (made absolute, so they work from any directory)."""
    if key == "banks":
        return [str(Path(v.strip()).expanduser().resolve()) for v in value.split(",") if v.strip()]
    if key == "scheduler":
        return value.strip().lower()
    try:
        return float(value) if key == "desired_retention" else int(value)
    except ValueError:
        return value  # Config.from_dict reports it with the allowed range

"""The errata log: every correction of substance made to a card, dated.

``questions/errata/<topic>.yaml`` holds a list of entries (card, date, field,
was, now, source). A user who reviewed a card before a correction is told
about it when the card next comes up (``features/errata.py``). Loading is
separate from the bank; the bank cache keeps the parsed errata beside the
bank, so a run where nothing changed reads no errata YAML.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

FIELDS = ("question", "answer", "rubric", "follow_ups", "red_flags")
KEYS = ("card", "date", "field", "was", "now", "source")
FOLDER = "errata"


@dataclass(frozen=True)
class Erratum:
    card: str
    date: date
    field: str
    was: str
    now: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["date"] = self.date.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Erratum:
        data = dict(data)
        data["date"] = date.fromisoformat(str(data["date"]))
        return cls(**data)

    def line(self) -> str:
        return f'{self.date.isoformat()} ({self.field.replace("_", "-")}): was "{self.was}"; now: {self.now}'


def load_errata(
    bank_folders: list[Path], card_ids: set[str] | None = None
) -> tuple[dict[str, list[Erratum]], list[str]]:
    """Every bank folder's ``errata/*.yaml``: entries by card (oldest first),
    and problems as ``path:line: message`` (``card_ids`` checks the cards exist).
    Everyday commands get these from the bank cache (``core/bankcache.py``),
    without importing PyYAML."""
    from dlprep.core.yamlfile import Located, LocatedList, YamlError, load_yaml

    by_card: dict[str, list[Erratum]] = {}
    problems: list[str] = []
    for folder in bank_folders:
        errata_dir = Path(folder) / FOLDER
        if not errata_dir.is_dir():
            continue
        for path in sorted(errata_dir.glob("*.yaml")):
            try:
                data, _ = load_yaml(path)
            except YamlError as exc:
                problems.append(f"{path}:{exc.line}: {exc.message}")
                continue
            if not isinstance(data, LocatedList):
                problems.append(f"{path}:1: an errata file is a list of entries")
                continue
            for i, raw in enumerate(data):
                line = raw.line if isinstance(raw, Located) else data.line_of_item(i)
                if not isinstance(raw, Located) or set(raw) != set(KEYS):
                    problems.append(f"{path}:{line}: each erratum needs exactly {', '.join(KEYS)}")
                    continue
                if raw["field"] not in FIELDS:
                    problems.append(f"{path}:{line}: field must be one of {', '.join(FIELDS)}")
                    continue
                if card_ids is not None and raw["card"] not in card_ids:
                    problems.append(f"{path}:{line}: {raw['card']!r} is not a card id")
                    continue
                try:
                    entry = Erratum.from_dict({k: raw[k] if k == "date" else str(raw[k]) for k in KEYS})
                except (TypeError, ValueError):
                    problems.append(f"{path}:{line}: date must be YYYY-MM-DD")
                    continue
                by_card.setdefault(entry.card, []).append(entry)
    for entries in by_card.values():
        entries.sort(key=lambda e: e.date)
    return by_card, problems

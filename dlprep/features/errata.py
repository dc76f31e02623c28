"""Telling a user that a card they studied has been corrected since.

A card "changed since your last review" when the content hash stored with
its latest review differs from the card's hash now; for reviews recorded
before hashes were stored, when an erratum is dated after that review. The
notice carries the errata entries dated on or after the last review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dlprep.core.bank import Bank, Card
from dlprep.core.errata import Erratum
from dlprep.core.store import Store


@dataclass(frozen=True)
class Notice:
    card_id: str
    last_review: datetime
    errata: tuple[Erratum, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "card": self.card_id,
            "last_review": self.last_review.isoformat(),
            "errata": [e.to_dict() for e in self.errata],
        }

    def lines(self) -> list[str]:
        head = f"Corrected since your last review ({self.last_review.date().isoformat()}):"
        if not self.errata:
            return [f"This card was edited since your last review ({self.last_review.date().isoformat()})."]
        return [head, *(f"  {e.line()}" for e in self.errata)]


def notice_for(card: Card, seen: tuple[str, str | None] | None, errata: dict[str, list[Erratum]]) -> Notice | None:
    """The notice for one card, given (time, hash) of its latest review."""
    if seen is None:
        return None
    at, stored_hash = seen
    reviewed = datetime.fromisoformat(at)
    entries = errata.get(card.id, [])
    if stored_hash is not None:
        if stored_hash == card.content_hash:
            return None
        return Notice(card.id, reviewed, tuple(e for e in entries if e.date >= reviewed.date()))
    later = tuple(e for e in entries if e.date > reviewed.date())
    return Notice(card.id, reviewed, later) if later else None


def notices(bank: Bank, store: Store, errata: dict[str, list[Erratum]]) -> dict[str, Notice]:
    """Every studied card that changed since its last review."""
    seen = store.last_seen()
    found = {}
    for cid, entry in seen.items():
        card = bank.by_id.get(cid)
        if card is not None:
            n = notice_for(card, entry, errata)
            if n is not None:
                found[cid] = n
    return found

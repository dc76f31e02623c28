"""What a demo returns: numbers, a small table of them, and the one-line conclusion.

A demo module lives in ``dlprep/demos/`` (or a user bank's ``demos/`` folder).
Its file name, with ``_`` turned into ``-``, is its id. It defines, as plain
literals at module level (read without importing the module):

    TOPIC = "backprop"
    TITLE = "Vanishing gradients: sigmoid vs ReLU + He init over 20 layers"

and a function ``run(device: str) -> DemoResult`` that imports torch inside
itself, seeds everything it uses, and finishes in a few seconds on a CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class DemoResult:
    """The outcome of one demo run.

    ``metrics`` holds the numbers the claim rests on (tests assert on them);
    ``columns``/``rows`` is the table shown to the user; ``conclusion`` is the
    one line stating what the numbers show, computed from them.
    """

    columns: list[str]
    rows: list[list[Any]]
    conclusion: str
    metrics: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemoResult:
        return cls(
            columns=list(data["columns"]),
            rows=[list(r) for r in data["rows"]],
            conclusion=data["conclusion"],
            metrics=dict(data.get("metrics", {})),
            notes=list(data.get("notes", [])),
        )


def fmt(x: float, digits: int = 3) -> str:
    """A compact number for a demo table: 0.25, 3.1e-07, 1.2e+04."""
    if x == 0:
        return "0"
    ax = abs(x)
    if 1e-3 <= ax < 1e4:
        return f"{x:.{digits}g}"
    return f"{x:.{max(digits - 1, 1)}e}"

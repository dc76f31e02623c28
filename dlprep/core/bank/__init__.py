"""The question bank: YAML files in, validated cards and topics out.

``load_bank`` reads the bundled bank plus any extra folders and either returns
a :class:`Bank` or raises :class:`BankError` carrying every problem found
(not just the first), each as ``path:line: card-id: message``.
The format is documented in ``docs/card-format.md``.

Three modules, one idea each: ``model`` (the typed objects), ``validate``
(the rules, file by file) and ``load`` (files in, bank out, and the rules
that need the whole bank).
"""

from dlprep.core.bank.model import (
    ANSWER_WORDS,
    DIFFICULTIES,
    ID_RE,
    KINDS,
    PATTERNS,
    REFERENCES_FILE,
    ROLES,
    RUBRIC_MAX,
    RUBRIC_MIN,
    TIME_MAX,
    TIME_MIN,
    TOPICS_FILE,
    Bank,
    BankError,
    Card,
    Cheatsheet,
    Citation,
    FollowUp,
    Problem,
    Reference,
    RubricPoint,
    Stage,
    StudyPath,
    Topic,
)

__all__ = [
    "ANSWER_WORDS",
    "DIFFICULTIES",
    "ID_RE",
    "KINDS",
    "PATTERNS",
    "REFERENCES_FILE",
    "ROLES",
    "RUBRIC_MAX",
    "RUBRIC_MIN",
    "TIME_MAX",
    "TIME_MIN",
    "TOPICS_FILE",
    "Bank",
    "BankError",
    "Card",
    "Cheatsheet",
    "Citation",
    "FollowUp",
    "Problem",
    "Reference",
    "RubricPoint",
    "Stage",
    "StudyPath",
    "Topic",
    "check_bank",
    "load_bank",
]


def __getattr__(name: str):  # the loader imports PyYAML; the cached bank needs only the model
    if name in ("check_bank", "load_bank"):
        from dlprep.core.bank import load

        return getattr(load, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

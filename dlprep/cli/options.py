"""Options shared by several commands, so they read the same everywhere."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class RoleChoice(StrEnum):
    mle = "mle"
    nlp = "nlp"
    cv = "cv"
    research = "research"
    startup = "startup"


class DifficultyChoice(StrEnum):
    junior = "junior"
    mid = "mid"
    senior = "senior"


JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
Role = Annotated[RoleChoice | None, typer.Option("--role", "-r", help="Only cards for this role.")]
Difficulty = Annotated[DifficultyChoice | None, typer.Option("--difficulty", "-d", help="Only this difficulty.")]
TopicOpt = Annotated[list[str] | None, typer.Option("--topic", "-t", help="Only this topic (repeatable).")]

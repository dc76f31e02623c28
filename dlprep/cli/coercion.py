"""Typer converts each option's value with a Pydantic ``TypeAdapter``, which it
builds for every parameter of the command, given or not: that imports
Pydantic (about 0.1 s, a third of a bare command's start-up) even for
`dlprep today`. Here the adapter is built only when a value needs it. An
option left out (None), an empty repeatable option, a flag (already a bool),
plain text for a plain ``str``, a whole number within its bounds for an
``int`` and one of an ``Enum``'s choices need nothing more, so everyday
commands never import Pydantic. Every other value, and every bad one, gets
exactly Typer's own conversion and error message.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from typer import core
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_choice

_DIGITS = re.compile(r"-?[0-9]{1,9}")


@dataclass(frozen=True)
class LazyRuntimeParam(RuntimeParam):
    descriptor: Any

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        info = self.parameter_info
        plain = info.parser is None and self.descriptor.file_annotation is None
        if plain and self.annotation in (str, str | None) and isinstance(value, str):
            return value
        if plain and (param.multiple or param.nargs == -1) and value in ((), []):
            return []
        if plain and self.annotation in (int, int | None) and isinstance(value, str) and _DIGITS.fullmatch(value):
            number = int(value)
            if (info.min is None or number >= info.min) and (info.max is None or number <= info.max):
                return number  # anything else (out of range, clamped, not a number) gets Typer's own message
        if plain and isinstance(self.annotation, type) and issubclass(self.annotation, Enum):
            with contextlib.suppress(Exception):  # not a choice: Typer's own message, below
                return coerce_cli_choice(
                    value, choices=list(self.annotation), case_sensitive=info.case_sensitive, ctx=ctx
                )
        return build_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)


def _lazy(descriptor: Any) -> RuntimeParam:
    return LazyRuntimeParam(
        annotation=descriptor.annotation, parameter_info=descriptor.parameter_info, descriptor=descriptor
    )


def install() -> None:
    """Make Typer's parameters build their converters on first real use."""
    if getattr(core, "build_runtime_param", None) is build_runtime_param:
        core.build_runtime_param = _lazy

"""What a drill's checks call: comparisons that explain the first mismatch.

A check is a function ``check_something(user, h)`` in a drill's ``checks``
code. ``user`` is the user's module; ``h`` is this module. A check passes by
returning and fails by raising :class:`CheckFailed` (``h.fail``, or one of
the comparisons below), whose message is what the user sees.

numpy is imported here; torch only when a value is a tensor or a forbidden
name lives in torch, so numpy-only drills never pay for it.
"""

from __future__ import annotations

import contextlib
import importlib
import random
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np


class CheckFailed(AssertionError):
    """A check's verdict: the user's code gave the wrong answer."""


def fail(message: str) -> None:
    raise CheckFailed(message)


def seed(n: int) -> None:
    """Seed Python, numpy and (if loaded) torch, so a check's inputs are fixed."""
    random.seed(n)
    np.random.seed(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(n)


def as_array(value: Any, what: str = "output") -> np.ndarray:
    """``value`` (tensor, array, number or nested list) as float64 numpy."""
    if value is None:
        fail(f"{what} is None: did the function return its result?")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu()
        if value.is_complex():
            fail(f"{what} is a complex tensor; expected real values")
        return value.double().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what} is a {type(value).__name__}; expected a tensor or an array of numbers")
    return arr


def _index(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in idx) + "]"


def same_shape(got: Any, shape: tuple[int, ...], what: str = "output") -> None:
    arr = as_array(got, what)
    if tuple(arr.shape) != tuple(shape):
        fail(f"{what} has shape {tuple(arr.shape)}; expected {tuple(shape)}")


def same_dtype(got: Any, dtype: Any, what: str = "output") -> None:
    """``got`` has exactly ``dtype`` (a torch or numpy dtype)."""
    have = getattr(got, "dtype", None)
    if have != dtype:
        fail(f"{what} has dtype {have}; expected {dtype}")


def close(got: Any, want: Any, *, atol: float = 1e-6, rtol: float = 1e-5, what: str = "output") -> None:
    """``got`` equals ``want`` in shape and, entry by entry, within
    ``atol + rtol * |want|``. NaN or inf where ``want`` is finite is a
    mismatch; NaN where ``want`` is NaN is not. On failure the message names
    the first wrong entry, expected vs got, the largest error and how many
    entries are wrong."""
    g = as_array(got, what)
    w = as_array(want, "expected value")
    if g.shape != w.shape:
        fail(f"{what} has shape {tuple(g.shape)}; expected {tuple(w.shape)}")
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.isclose(g, w, atol=atol, rtol=rtol, equal_nan=True)
    if not bad.any():
        return
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if g.ndim else ()
    where = f" at {_index(first)}" if g.ndim else ""
    nonfinite = int((~np.isfinite(g) & np.isfinite(w)).sum())
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(g - w)[bad & np.isfinite(g) & np.isfinite(w)]
    notes = [f"{int(bad.sum())} of {bad.size} entries wrong"]
    if err.size:
        notes.append(f"max abs error {err.max():.3g}")
    if nonfinite:
        notes.append(f"{nonfinite} nan/inf where a finite value was expected")
    fail(f"{what} differs{where}: expected {w[first]:.6g}, got {g[first]:.6g} ({'; '.join(notes)})")


def resolve(dotted: str) -> tuple[Any, str]:
    """The object holding the last part of ``dotted``, and that part's name:
    ``torch.nn.functional.softmax`` -> (the module torch.nn.functional,
    "softmax"); ``torch.Tensor.softmax`` -> (the class torch.Tensor, "softmax")."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:-1]:
            owner = getattr(owner, part)
        return owner, parts[-1]
    raise LookupError(f"cannot resolve {dotted}")


def _called_from(filename: str) -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == filename:
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def forbid(names: list[str] | tuple[str, ...], user_file: str) -> Iterator[None]:
    """While inside, a call to any of ``names`` made (directly or not) from
    code in ``user_file`` fails the check. Calls from the checks themselves,
    e.g. computing the expected value with the forbidden op, go through."""
    patched: list[tuple[Any, str, Any]] = []
    try:
        for name in names:
            try:
                owner, attr = resolve(name)
                original = getattr(owner, attr)
            except (LookupError, AttributeError):
                continue
            own = attr in vars(owner)  # else inherited (a Tensor method): delete ours afterwards

            def guard(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
                if _called_from(user_file):
                    raise CheckFailed(f"uses {_name}, which this drill forbids")
                return _original(*args, **kwargs)

            setattr(owner, attr, guard)
            patched.append((owner, attr, original if own else None))
        yield
    finally:
        for owner, attr, original in reversed(patched):
            if original is None:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)

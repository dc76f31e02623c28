"""Small numeric tools shared by the fact tests: a stable softmax, a
finite-difference Jacobian, and a simulated ring all-reduce."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def softmax(x, axis=-1):
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def numeric_jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences: column j is (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)."""
    columns = []
    for j in range(x.size):
        d = np.zeros_like(x)
        d[j] = eps
        columns.append((f(x + d) - f(x - d)) / (2 * eps))
    return np.stack(columns, axis=-1)  # (outputs, inputs); the gradient for a scalar f


def ring_reduce_scatter(bufs):
    """In-place ring reduce-scatter over a list of N equal 1-D arrays.

    Returns (owned chunk index per worker, elements sent per worker)."""
    n = len(bufs)
    chunks = [np.array_split(b, n) for b in bufs]
    sent = [0] * n
    for step in range(n - 1):
        msgs = []
        for w in range(n):
            c = (w - step) % n
            msgs.append(((w + 1) % n, c, chunks[w][c].copy()))
            sent[w] += chunks[w][c].size
        for dst, c, data in msgs:
            chunks[dst][c] = chunks[dst][c] + data
    owned = [(w + 1) % n for w in range(n)]
    return chunks, owned, sent


def ring_all_gather(chunks, owned):
    n = len(chunks)
    sent = [0] * n
    for step in range(n - 1):
        msgs = []
        for w in range(n):
            c = (owned[w] - step) % n
            msgs.append(((w + 1) % n, c, chunks[w][c].copy()))
            sent[w] += chunks[w][c].size
        for dst, c, data in msgs:
            chunks[dst][c] = data
    return [np.concatenate(ch) for ch in chunks], sent


def ring_all_reduce(bufs):
    chunks, owned, sent_rs = ring_reduce_scatter(bufs)
    out, sent_ag = ring_all_gather(chunks, owned)
    return out, [a + b for a, b in zip(sent_rs, sent_ag, strict=True)]

"""Arm order per reader in a reader study (issue 18).

Three kinds: ``fixed`` (the arms as listed), ``latin-square`` (balanced: Williams design for an
even number of arms, the pair of squares for an odd number) and ``random`` (a permutation seeded
per reader with the runner's ``fy-sha256-v1`` shuffle).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sessionkit.runner.navigation import seeded_permutation


def williams_rows(n: int) -> list[list[int]]:
    """Rows of a balanced Latin square over ``n`` arms (Williams design).

    Parameters
    ----------
    n : int
        Number of arms, at least 1.

    Returns
    -------
    list of list of int
        ``n`` rows (even ``n``) or ``2 n`` rows (odd ``n``: the square and its mirror), each a
        permutation of ``range(n)``; every arm appears equally often in each position.
    """
    first = [0]
    low, high = 1, n - 1
    for step in range(1, n):
        if step % 2:
            first.append(low)
            low += 1
        else:
            first.append(high)
            high -= 1
    rows = [[(arm + shift) % n for arm in first] for shift in range(n)]
    if n % 2:
        rows += [list(reversed(row)) for row in rows]
    return rows


def arm_order(arms: Sequence[str], kind: str, reader_index: int, seed: int = 0) -> list[str]:
    """The order in which one reader reads the arms.

    Parameters
    ----------
    arms : sequence of str
        Arm ids in the order of ``study.toml``.
    kind : str
        ``"fixed"``, ``"latin-square"`` or ``"random"``.
    reader_index : int
        The reader's 0-based position in ``[[readers]]``.
    seed : int
        Seed of the ``random`` kind; the same seed gives the same orders.

    Returns
    -------
    list of str
        A permutation of ``arms``.

    Raises
    ------
    ValueError
        If ``kind`` is none of the three kinds (``study.toml`` validation reports it first).
    """
    if kind == "fixed":
        return list(arms)
    if kind == "latin-square":
        rows = williams_rows(len(arms))
        return [arms[i] for i in rows[reader_index % len(rows)]]
    if kind == "random":
        material = f"sessionkit-study-order\x00{seed}\x00{reader_index}".encode()
        indices = seeded_permutation(range(len(arms)), hashlib.sha256(material).digest())
        return [arms[i] for i in indices]
    raise ValueError(f"order kind {kind!r}: expected fixed, latin-square or random")

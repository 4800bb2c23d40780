"""Navigation list, page groups and the seeded group permutation (reading-flow §2-§3).

The navigation list has one entry per (page instance, question set). A page instance is
``(page_index, rep)``: ``page_index`` is the 1-based position of the Page in the session file and
``rep`` is 0 for the original, ``n`` for the copy ``<ID>-Rep<n>`` made by Repeat (§9).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sessionkit.session.model import Page, Session

#: Name of the permutation algorithm stored in ``state.json`` (reading-flow §3.3).
ALGORITHM = "fy-sha256-v1"
_SEED_PREFIX = b"sessionkit/rand/v1"


@dataclass(frozen=True, order=True)
class Instance:
    """One page instance: 1-based file position of the Page and its repetition (0 = original)."""

    page_index: int
    rep: int = 0

    def instance_id(self, page: Page) -> str:
        """``<ID>`` or ``<ID>-Rep<n>`` (the base ID never accumulates suffixes, §9)."""
        return page.id if self.rep == 0 else f"{page.id}-Rep{self.rep}"


@dataclass(frozen=True)
class NavEntry:
    """One navigation entry: a page instance and the 1-based index of one of its question sets."""

    instance: Instance
    question_set_index: int


@dataclass(frozen=True)
class GroupOrder:
    """Order in which page groups are shown to one reader (reading-flow §3.2-§3.3).

    Attributes
    ----------
    order : tuple of int
        Effective PageGroup numbers, first shown first (group 0 first when any page has it).
    seed : str or None
        Lowercase hex seed when the order came from the seeded permutation, else ``None``.
    algorithm : str or None
        ``"fy-sha256-v1"`` for a seeded order, ``"forced"`` for RandomizedPageGroupIndices or an
        administrator's preset.
    """

    order: tuple[int, ...]
    seed: str | None = None
    algorithm: str | None = None

    @property
    def indices_text(self) -> str:
        """IQ's ``RandomizedPageGroupIndices`` text: comma-joined, no spaces (§3.3 step 4)."""
        return ",".join(str(group) for group in self.order)


def permutation_seed(session_sha256: str, reader_id: str, study_salt: str = "") -> bytes:
    """Seed of a reader's group permutation (reading-flow §3.3 step 1).

    Parameters
    ----------
    session_sha256 : str
        SHA-256 of the run's snapshot bytes; lower-cased before hashing.
    reader_id : str
        The reader identity.
    study_salt : str
        Deployment setting, default empty.

    Returns
    -------
    bytes
        32-byte ``SHA-256("sessionkit/rand/v1" 0x00 sha 0x00 reader 0x00 salt)``.
    """
    material = b"\x00".join(
        [_SEED_PREFIX, session_sha256.lower().encode("utf-8"), reader_id.encode("utf-8"), study_salt.encode("utf-8")]
    )
    return hashlib.sha256(material).digest()


def seeded_permutation(groups: Sequence[int], seed: bytes) -> list[int]:
    """Fisher-Yates shuffle driven by SHA-256 (``fy-sha256-v1``, reading-flow §3.3 step 2).

    For ``i`` from ``len(g) - 1`` down to 1 and ``k = 0, 1, ...``: ``r`` is the first 8 bytes
    (big-endian) of ``SHA-256(seed || u32be(i) || u32be(k))``; ``r`` is accepted when it is below
    ``2**64 - (2**64 mod (i + 1))`` (rejection sampling removes modulo bias); then
    ``j = r mod (i + 1)`` and ``g[i]``, ``g[j]`` are swapped.

    Parameters
    ----------
    groups : sequence of int
        Distinct non-zero groups in first-appearance order.
    seed : bytes
        Output of :func:`permutation_seed`.

    Returns
    -------
    list of int
        The permuted groups (a new list).
    """
    result = list(groups)
    for i in range(len(result) - 1, 0, -1):
        bound = (1 << 64) - ((1 << 64) % (i + 1))
        k = 0
        while True:
            digest = hashlib.sha256(seed + i.to_bytes(4, "big") + k.to_bytes(4, "big")).digest()
            r = int.from_bytes(digest[:8], "big")
            if r < bound:
                break
            k += 1
        j = r % (i + 1)
        result[i], result[j] = result[j], result[i]
    return result


def _distinct_nonzero(groups: Iterable[int]) -> list[int]:
    seen: list[int] = []
    for group in groups:
        if group != 0 and group not in seen:
            seen.append(group)
    return seen


def group_order(
    session: Session,
    reader_id: str,
    study_salt: str = "",
    *,
    preset: Sequence[int] | None = None,
) -> GroupOrder | None:
    """The run's group order (reading-flow §3.2), or ``None`` when pages keep file order.

    Parameters
    ----------
    session : Session
        The run's snapshot; ``session.sha256`` feeds the seed.
    reader_id, study_salt : str
        Seed inputs (§3.3).
    preset : sequence of int, optional
        An administrator's order for this reader; treated like a forced list.

    Returns
    -------
    GroupOrder or None
        ``None`` unless ``RandomizePageGroups="Y"``. Forced lists (session or preset) keep group 0
        first, then the listed groups (``0`` and unknown numbers skipped, duplicates once), then
        unlisted groups in first-appearance order, so no page is ever dropped.
    """
    if not session.randomize_page_groups:
        return None
    effective = session.effective_page_groups()
    head = [0] if 0 in effective else []
    distinct = _distinct_nonzero(effective)
    forced = preset if preset is not None else session.randomized_page_group_indices
    if forced is not None:
        listed = [g for g in dict.fromkeys(forced) if g != 0 and g in distinct]
        rest = [g for g in distinct if g not in listed]
        return GroupOrder(tuple(head + listed + rest), None, "forced")
    seed = permutation_seed(session.sha256, reader_id, study_salt)
    return GroupOrder(tuple(head + seeded_permutation(distinct, seed)), seed.hex(), ALGORITHM)


def build_navigation(
    session: Session, instances: Iterable[Instance], order: Sequence[int] | None
) -> tuple[NavEntry, ...]:
    """The navigation list (reading-flow §2).

    Parameters
    ----------
    session : Session
    instances : iterable of Instance
        Every page instance of the run (originals and Repeat copies).
    order : sequence of int or None
        Stored group order; ``None`` keeps file order.

    Returns
    -------
    tuple of NavEntry
        Instances in file order with copies directly after the last instance of the same page
        (i.e. sorted by ``(page_index, rep)``), regrouped by ``order`` when given; one entry per
        question set in file order. A page without question sets still gets one entry (index 1)
        so that its images can be shown. Groups missing from ``order`` follow at the end.
    """
    ordered = sorted(set(instances))
    if order is not None:
        groups = session.effective_page_groups()
        rank = {group: position for position, group in enumerate(order)}
        ordered.sort(key=lambda inst: rank.get(groups[inst.page_index - 1], len(rank)))
    entries: list[NavEntry] = []
    for inst in ordered:
        page = session.pages[inst.page_index - 1]
        count = max(1, len(page.question_sets))
        entries.extend(NavEntry(inst, qs_index) for qs_index in range(1, count + 1))
    return tuple(entries)


def progress_text(session: Session, entry: NavEntry, position: int, total: int) -> str:
    """``<PageID>  <Descriptor>  <n> of <N>`` with ``PageID`` incl. ``-Rep<n>`` (reading-flow §2).

    ``n`` is the 1-based ``position`` among the ``total`` navigation entries (one per question set
    of each page instance), so readers see how many screens are left rather than a percentage.
    """
    page = session.pages[entry.instance.page_index - 1]
    return f"{entry.instance.instance_id(page)}  {page.descriptor}  {position} of {total}"

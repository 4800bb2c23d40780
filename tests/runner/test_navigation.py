"""Navigation list, group order and the fy-sha256-v1 permutation (reading-flow §2-§3, C8)."""

from __future__ import annotations

import hashlib

import pytest

from sessionkit.runner.navigation import (
    Instance,
    build_navigation,
    group_order,
    permutation_seed,
    progress_text,
    seeded_permutation,
)

SHA = hashlib.sha256(b"<Session/>").hexdigest()


def _labels(session, nav):
    return [f"{e.instance.instance_id(session.pages[e.instance.page_index - 1])}.{e.question_set_index}" for e in nav]


def _example(make, **kw):
    """reading-flow §3.3 example: P1 (0), P2 (1, two QS), P3 (1), P4 (2), P5 (3, two QS), P6 (0)."""
    two = (make.radio("a"), make.radio("b"))
    return make.session(
        make.page("P1", page_group=0),
        make.page("P2", *two, page_group=1),
        make.page("P3", page_group=1),
        make.page("P4", page_group=2),
        make.page("P5", *two, page_group=3),
        make.page("P6", page_group=0),
        randomize_page_groups=True,
        **kw,
    )


def test_seed_is_sha256_of_the_spec_layout():
    expected = hashlib.sha256(b"sessionkit/rand/v1\x00" + SHA.encode() + b"\x00alice\x00").digest()
    assert permutation_seed(SHA.upper(), "alice") == expected
    salted = hashlib.sha256(b"sessionkit/rand/v1\x00" + SHA.encode() + b"\x00alice\x00study-2026").digest()
    assert permutation_seed(SHA, "alice", "study-2026") == salted


@pytest.mark.parametrize(
    ("reader", "salt", "seed_hex", "perm3", "perm10"),
    [
        ("alice", "", "583861accf9ba09b9726db9724be210a7707500b0e77d9d88cea11c30c054e33",
         [1, 2, 3], [9, 2, 4, 3, 10, 8, 1, 7, 6, 5]),
        ("bob", "", "c6252dde61333b8fd87523ace7695eeb7a787977598d842c7d642545effdddd0",
         [1, 2, 3], [5, 7, 4, 3, 1, 10, 6, 2, 8, 9]),
        ("alice", "study-2026", "7a85d8a3e91d1ef3a426c584657752f1c8f318669da7a5b34343a16e113fec95",
         [3, 2, 1], [3, 7, 9, 2, 1, 4, 8, 6, 5, 10]),
    ],
)  # fmt: skip
def test_pinned_vectors(reader, salt, seed_hex, perm3, perm10):
    seed = permutation_seed(SHA, reader, salt)
    assert seed.hex() == seed_hex
    assert seeded_permutation([1, 2, 3], seed) == perm3
    assert seeded_permutation(list(range(1, 11)), seed) == perm10


def test_permutation_matches_a_direct_transcription_of_the_spec():
    def reference(groups, seed):
        g = list(groups)
        for i in range(len(g) - 1, 0, -1):
            k = 0
            while True:
                r = int.from_bytes(hashlib.sha256(seed + i.to_bytes(4, "big") + k.to_bytes(4, "big")).digest()[:8])
                if r < 2**64 - (2**64 % (i + 1)):
                    break
                k += 1
            j = r % (i + 1)
            g[i], g[j] = g[j], g[i]
        return g

    for reader in ("r1", "r2", "r3", "reader.with-dots_1"):
        seed = permutation_seed(SHA, reader)
        groups = [7, -2, 3, 11, 5, 4, 9, 1]
        assert seeded_permutation(groups, seed) == reference(groups, seed)
        assert sorted(seeded_permutation(groups, seed)) == sorted(groups)


def test_single_group_and_empty_are_unchanged():
    seed = permutation_seed(SHA, "x")
    assert seeded_permutation([4], seed) == [4]
    assert seeded_permutation([], seed) == []


def test_example_with_permutation_3_1_2(make):
    session = _example(make)
    order = group_order(session, "alice", preset=[3, 1, 2])
    assert order is not None and order.indices_text == "0,3,1,2"
    nav = build_navigation(session, [Instance(i) for i in range(1, 7)], order.order)
    assert _labels(session, nav) == ["P1.1", "P6.1", "P5.1", "P5.2", "P2.1", "P2.2", "P3.1", "P4.1"]


def test_forced_list_missing_groups_are_appended(make):
    """IQ defect: page groups not listed in RandomizedPageGroupIndices were dropped from the quiz.

    Here every group the list leaves out is appended (file order), so no page is lost (reading-flow §3.2).
    """
    forced = _example(make, randomized_page_group_indices=(3,))
    order = group_order(forced, "anyone")
    assert order is not None and order.order == (0, 3, 1, 2) and order.algorithm == "forced" and order.seed is None
    nav = build_navigation(forced, [Instance(i) for i in range(1, 7)], order.order)
    assert _labels(forced, nav) == ["P1.1", "P6.1", "P5.1", "P5.2", "P2.1", "P2.2", "P3.1", "P4.1"]


def test_forced_list_skips_zero_unknown_and_duplicates(make):
    forced = _example(make, randomized_page_group_indices=(2, 0, 99, 2, 3))
    order = group_order(forced, "anyone")
    assert order is not None and order.order == (0, 2, 3, 1)


def test_seeded_order_keeps_group_zero_first_and_drops_nothing(make):
    """IQ defect: randomisation could drop page groups; the seeded order keeps group 0 first and every page."""
    session = _example(make, sha256=SHA)
    order = group_order(session, "alice")
    assert order is not None and order.algorithm == "fy-sha256-v1"
    assert order.seed == permutation_seed(SHA, "alice").hex()
    assert order.order == (0, *seeded_permutation([1, 2, 3], permutation_seed(SHA, "alice")))
    nav = build_navigation(session, [Instance(i) for i in range(1, 7)], order.order)
    assert sorted({e.instance.page_index for e in nav}) == [1, 2, 3, 4, 5, 6]
    assert _labels(session, nav)[:2] == ["P1.1", "P6.1"]


def test_no_randomization_keeps_file_order(make):
    session = make.session(make.page("A", page_group=2), make.page("B", page_group=1))
    assert group_order(session, "alice") is None
    assert _labels(session, build_navigation(session, [Instance(1), Instance(2)], None)) == ["A.1", "B.1"]


def test_randomization_without_group_zero(make):
    session = make.session(make.page("A", page_group=1), make.page("B", page_group=2), randomize_page_groups=True)
    order = group_order(session, "alice")
    assert order is not None and 0 not in order.order and sorted(order.order) == [1, 2]


def test_iq_shuffle_navigation_list_case(make):
    """IQ TestSession.test_ShuffleNavigationList: groups 1,1,2,2,3, stored order 2,3,1."""
    two = (make.radio("a"), make.radio("b"))
    session = make.session(
        make.page("p0", *two, page_group=1),
        make.page("p1", page_group=1),
        make.page("p2", *two, page_group=2),
        make.page("p3", page_group=2),
        make.page("p4", *two, page_group=3),
        randomize_page_groups=True,
        randomized_page_group_indices=(2, 3, 1),
    )
    order = group_order(session, "r")
    assert order is not None
    nav = build_navigation(session, [Instance(i) for i in range(1, 6)], order.order)
    got = [(e.instance.page_index - 1, e.question_set_index - 1) for e in nav]
    assert got == [(2, 0), (2, 1), (3, 0), (4, 0), (4, 1), (0, 0), (0, 1), (1, 0)]


def test_iq_shuffle_navigation_list_with_zero_case(make):
    """IQ TestSession.test_ShuffleNavigationList_WithZero: stored order 0,2,3,1."""
    two = (make.radio("a"), make.radio("b"))
    groups = [1, 0, 1, 2, 0, 2, 3, 0]
    qs_counts = [2, 1, 1, 2, 1, 1, 2, 1]
    pages = [
        make.page(f"p{i}", *(two if n == 2 else (make.radio(),)), page_group=g)
        for i, (g, n) in enumerate(zip(groups, qs_counts, strict=True))
    ]
    session = make.session(*pages, randomize_page_groups=True, randomized_page_group_indices=(0, 2, 3, 1))
    order = group_order(session, "r")
    assert order is not None
    nav = build_navigation(session, [Instance(i) for i in range(1, 9)], order.order)
    got = [(e.instance.page_index - 1, e.question_set_index - 1) for e in nav]
    assert got == [(1, 0), (4, 0), (7, 0), (3, 0), (3, 1), (5, 0), (6, 0), (6, 1), (0, 0), (0, 1), (2, 0)]


def test_iq_seed_100_order_regroups_pages(make):
    """IQ's random.seed(100) result 0,5,1,6,9,7,2,4,8,3 stored as the forced order (C8)."""
    pages = [make.page(f"g{g}", page_group=g) for g in range(10)]
    session = make.session(
        *pages, randomize_page_groups=True, randomized_page_group_indices=(0, 5, 1, 6, 9, 7, 2, 4, 8, 3)
    )
    order = group_order(session, "r")
    assert order is not None
    nav = build_navigation(session, [Instance(i) for i in range(1, 11)], order.order)
    assert _labels(session, nav) == [f"g{g}.1" for g in (0, 5, 1, 6, 9, 7, 2, 4, 8, 3)]


def test_repeat_copies_follow_the_last_instance_of_their_page(make):
    session = make.session(make.page("A"), make.page("P2", loop=True), make.page("P3"))
    instances = [Instance(1), Instance(2), Instance(2, 1), Instance(3), Instance(2, 2)]
    assert _labels(session, build_navigation(session, instances, None)) == [
        "A.1", "P2.1", "P2-Rep1.1", "P2-Rep2.1", "P3.1"
    ]  # fmt: skip


def test_repeat_copies_stay_in_their_group_under_randomization(make):
    session = make.session(
        make.page("A", page_group=1), make.page("B", page_group=2, loop=True), randomize_page_groups=True
    )
    nav = build_navigation(session, [Instance(1), Instance(2), Instance(2, 1)], (2, 1))
    assert _labels(session, nav) == ["B.1", "B-Rep1.1", "A.1"]


def test_progress_text(make):
    session = make.session(make.page("P1", descriptor="Chest CT"), make.page("P2", loop=True))
    nav = build_navigation(session, [Instance(1), Instance(2), Instance(2, 1)], None)
    assert progress_text(session, nav[0], 1, 3) == "P1  Chest CT  1 of 3"
    assert progress_text(session, nav[2], 3, 3) == "P2-Rep1    3 of 3"

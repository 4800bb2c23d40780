from collections import Counter

import pytest

from sessionkit.study.order import arm_order


@pytest.mark.parametrize("kind", ["latin-square"])
@pytest.mark.parametrize("n_arms", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("n_readers", range(1, 21))
def test_latin_square_balances_positions(kind: str, n_arms: int, n_readers: int) -> None:
    arms = [f"a{i}" for i in range(n_arms)]
    orders = [arm_order(arms, kind, r) for r in range(n_readers)]
    for order in orders:
        assert sorted(order) == arms
    for position in range(n_arms):
        counts = Counter(order[position] for order in orders)
        values = [counts.get(arm, 0) for arm in arms]
        assert max(values) - min(values) <= 1


@pytest.mark.parametrize("n_arms", [2, 4, 6])
def test_latin_square_even_is_carryover_balanced(n_arms: int) -> None:
    arms = [str(i) for i in range(n_arms)]
    pairs = Counter(
        (o[i], o[i + 1]) for r in range(n_arms) for o in [arm_order(arms, "latin-square", r)] for i in range(n_arms - 1)
    )
    assert len(pairs) == n_arms * (n_arms - 1)
    assert set(pairs.values()) == {1}


def test_random_is_reproducible_and_varies() -> None:
    arms = ["a", "b", "c", "d", "e"]
    first = [arm_order(arms, "random", r, seed=7) for r in range(10)]
    assert first == [arm_order(arms, "random", r, seed=7) for r in range(10)]
    assert all(sorted(o) == arms for o in first)
    assert len({tuple(o) for o in first}) > 1
    assert first != [arm_order(arms, "random", r, seed=8) for r in range(10)]


def test_fixed_and_unknown_kind() -> None:
    assert arm_order(["x", "y"], "fixed", 3) == ["x", "y"]
    with pytest.raises(ValueError, match="latin-square"):
        arm_order(["x"], "balanced", 0)

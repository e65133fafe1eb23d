"""The attribution models whose arithmetic is not plain SQL: Markov removal effects (solved
exactly in dbt_project/models/marts/mart_attribution_markov.py) and the closed form we use for
exact Shapley values, checked against known answers, brute force and ChannelAttribution."""

import itertools
import math
import random

import pandas as pd
import pytest

from tests.marts.attribution_reference import markov, reference


def test_markov_known_answer():
    # chain: start -> a (6); a -> b 4/6, a -> c 2/6; b -> conv 3/4; c -> conv 1/2. P(conv) = 2/3.
    # without a: 0 (effect 1); without b: 1/6 (effect 3/4); without c: 1/2 (effect 1/4); sum 2.
    paths = pd.DataFrame({"period_start": ["2026-10-01"] * 2, "path_channels": [["a", "b"], ["a", "c"]],
                          "conversions": [3, 1], "non_conversions": [1, 1], "revenue_reporting": [300.0, 100.0]})
    out = markov.attribute(paths).set_index("channel")
    assert out["removal_effect"].to_dict() == pytest.approx({"a": 1.0, "b": 0.75, "c": 0.25}, abs=1e-12)
    assert out["attributed_conversions"].to_dict() == pytest.approx({"a": 2.0, "b": 1.5, "c": 0.5}, abs=1e-12)
    assert out["attributed_revenue"].to_dict() == pytest.approx({"a": 200.0, "b": 150.0, "c": 50.0}, abs=1e-9)
    assert out["conversion_probability"].iloc[0] == pytest.approx(2 / 3, abs=1e-12)


def test_markov_self_transitions_and_cycles_are_exact():
    # a > a > b is the same chain as a > b; a > b > a > b loops between a and b.
    with_repeats = [(["a", "a", "b"], 3, 1), (["a", "c"], 1, 1)]
    collapsed = [(["a", "b"], 3, 1), (["a", "c"], 1, 1)]
    assert markov.removal_effects(with_repeats) == pytest.approx(markov.removal_effects(collapsed), abs=1e-12)
    # a <-> b cycle: start -> a; a -> b (2/3), a -> null (1/3); b -> a (1/2), b -> conv (1/2).
    # h_a = 2/3 h_b, h_b = 1/2 h_a + 1/2  =>  h_a = 1/2. Without b: 0 (effect 1); without a: 0 (effect 1).
    cyclic = [(["a", "b", "a", "b"], 1, 0), (["a"], 0, 1)]
    counts = markov.transition_counts(cyclic)
    assert markov.conversion_probability(counts, ["a", "b"]) == pytest.approx(0.5, abs=1e-12)
    assert markov.removal_effects(cyclic) == pytest.approx({"a": 1.0, "b": 1.0}, abs=1e-12)


def test_markov_with_nothing_converting_credits_nothing():
    paths = pd.DataFrame({"period_start": ["p"], "path_channels": [["a"]], "conversions": [0], "non_conversions": [3],
                          "revenue_reporting": [0.0]})
    out = markov.attribute(paths)
    assert out["attributed_conversions"].tolist() == [0.0] and out["removal_effect"].tolist() == [0.0]


def random_paths(seed: int, channels: str = "abcde", count: int = 60) -> list[tuple[list[str], int, int]]:
    rng = random.Random(seed)
    paths = {}
    while len(paths) < count:
        path = tuple(rng.choice(channels) for _ in range(rng.randint(1, 5)))
        path = tuple(c for i, c in enumerate(path) if i == 0 or c != path[i - 1])  # exposure-collapsed
        paths[path] = (rng.randint(0, 20), rng.randint(0, 40))
    return [(list(p), conv, null) for p, (conv, null) in paths.items() if conv + null]


def test_markov_matches_channelattribution_on_random_paths():
    """ChannelAttribution estimates the removal effects by simulating 1e6 journeys: ours (exact)
    must agree within its sampling error. Its default stops each simulated journey after as many
    steps as the longest observed path, which undercounts chains with cycles (a > b > a ...) by
    several points (0.461 instead of 0.507 for `a` here); with room to finish they agree."""
    paths = random_paths(seed=3)
    ours = markov.removal_effects(paths)
    _, chain = reference(paths, max_step=100)
    conversions = sum(c for _, c, _ in paths)
    total = sum(ours.values())
    for channel, effect in ours.items():
        assert effect == pytest.approx(chain.loc[channel, "removal_effect"], abs=0.01), channel
        assert effect / total * conversions == pytest.approx(chain.loc[channel, "total_conversions"], rel=0.02), channel


def shapley_by_enumeration(paths: list[tuple[list[str], int, int]]) -> dict[str, float]:
    """Exact Shapley values over all orderings-weighted coalitions; v(S) = conversions of the paths
    whose channels all lie in S."""
    players = sorted({c for p, _, _ in paths for c in p})
    n = len(players)

    def v(coalition: frozenset) -> float:
        return sum(conv for p, conv, _ in paths if set(p) <= coalition)

    values = {}
    for player in players:
        others = [p for p in players if p != player]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for coalition in itertools.combinations(others, size):
                s = frozenset(coalition)
                total += weight * (v(s | {player}) - v(s))
        values[player] = total
    return values


def test_shapley_closed_form_is_the_exact_shapley_value():
    """The mart gives each distinct channel of a converting path 1/k of it: that is exactly the
    Shapley value of the game above (a sum of unanimity games), for any number of channels."""
    assert shapley_by_enumeration([(["a"], 4, 0), (["a", "b"], 6, 0)]) == pytest.approx({"a": 7, "b": 3})
    for seed in range(5):
        paths = random_paths(seed, channels="abcdefg", count=40)
        closed_form: dict[str, float] = {}
        for path, conv, _ in paths:
            for channel in set(path):
                closed_form[channel] = closed_form.get(channel, 0.0) + conv / len(set(path))
        assert closed_form == pytest.approx(shapley_by_enumeration(paths), abs=1e-9)

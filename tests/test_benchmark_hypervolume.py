"""The benchmarks' exact 2-D hypervolume against counting the unit cells the points dominate."""

from __future__ import annotations

import random

from tests.benchmarks._hypervolume import hypervolume_2d


def cells(points: list[tuple[int, int]], reference: tuple[int, int]) -> int:
    return sum(any(a <= x and b <= y for a, b in points) for x in range(reference[0]) for y in range(reference[1]))


def test_it_matches_counting_on_random_integer_fronts():
    rng = random.Random(7)
    for _ in range(200):
        points = [(rng.randrange(0, 14), rng.randrange(0, 14)) for _ in range(rng.randrange(0, 7))]
        assert hypervolume_2d(points, (12, 12)) == cells(points, (12, 12)), points


def test_points_beyond_the_reference_and_dominated_points_add_nothing():
    assert hypervolume_2d([(1.0, 1.0)], (3.0, 2.0)) == 2.0
    assert hypervolume_2d([(1.0, 1.0), (2.0, 1.5), (3.0, 0.0), (0.5, 2.0)], (3.0, 2.0)) == 2.0
    assert hypervolume_2d([], (1.0, 1.0)) == 0.0

"""Pure helpers of ``rapport bench``: percentiles, targets, the scorer workload (no servers started)."""

from __future__ import annotations

import os

import pytest

from bot.bench import (
    STOCK_LINES,
    TRAINEE_LINES,
    LoadResult,
    passes,
    percentile,
    repeat_to,
    scorer_corpus,
    tree_rss_mb,
)


def test_percentile_interpolates_like_numpy_linear() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 50) == pytest.approx(25.0)
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile(list(reversed(values)), 50) == pytest.approx(25.0)  # order does not matter
    assert percentile([7.0], 95) == 7.0


def test_percentile_of_nothing_is_none_and_q_is_checked() -> None:
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_load_result_figures() -> None:
    result = LoadResult("x", 1, latencies_ms=[1.0, 2.0, 3.0], wall_s=1.5)
    assert result.p50 == 2.0
    assert result.throughput == pytest.approx(2.0)
    assert LoadResult("empty", 8).p95 is None


def test_passes() -> None:
    assert passes(90.0, "<=", 100.0) == "PASS"
    assert passes(100.0, "<=", 100.0) == "PASS"
    assert passes(100.0, "<", 100.0) == "FAIL"
    assert passes(999.0, ">=", 1000.0) == "FAIL"
    assert passes(None, "<=", 1.0) == "n/a"
    assert passes(1.0, "<=", None) == "n/a"


def test_scorer_workload_is_200_distinct_sentences_repeated() -> None:
    corpus = scorer_corpus()
    assert len(corpus) == 200
    assert len(set(corpus)) == 200
    workload = repeat_to(corpus, 5000)
    assert len(workload) == 5000
    assert workload[200] == corpus[0]
    assert repeat_to([], 10) == []


def test_scripts_are_long_enough_to_cycle() -> None:
    assert len(TRAINEE_LINES) >= 12 and len(set(TRAINEE_LINES)) == len(TRAINEE_LINES)
    assert all(not line.startswith("/") for line in TRAINEE_LINES)
    assert len(STOCK_LINES) >= 6


def test_tree_rss_of_this_process_is_positive() -> None:
    assert tree_rss_mb(os.getpid()) > 1.0

"""The model's rules, each on traffic small enough to count by hand (lambdawarmer_model/simulation.py)."""

from __future__ import annotations

import pytest

from lambdawarmer.timing import DEADLINE_MARGIN_MS
from lambdawarmer.tree import MAX_DEPTH, fitting_tree
from lambdawarmer_model.policies import Fixed, NoWarming, Oracle
from lambdawarmer_model.rounds import round_shape, scheduled_round, tree_places
from lambdawarmer_model.simulation import PING_PHASE_MIN, Assumptions, PingView, Requests, simulate
from lambdawarmer_model.traffic import MINUTE_S, Durations, Workload

SECOND = Durations(((0.0, 1000.0), (1.0, 1000.0)), 1000.0)
"""Every request takes one second."""
AT_ONCE = Assumptions(scored_from_min=0)


def workload(counts: list[int], durations: Durations = SECOND) -> Workload:
    return Workload("f", counts, durations, 1769)


def every(minutes: int, total: int, count: int = 1) -> list[int]:
    return [count if minute % minutes == 0 else 0 for minute in range(total)]


def test_an_environment_idle_longer_than_the_lifetime_is_gone() -> None:
    sparse = workload(every(15, 60))  # minutes 0, 15, 30, 45
    assert simulate(sparse, NoWarming(), AT_ONCE).cold_starts == 4
    assert (
        simulate(sparse, NoWarming(), Assumptions(scored_from_min=0, idle_lifetime_min=16)).cold_starts == 1
    )


def test_a_ping_every_5_minutes_keeps_one_warm() -> None:
    sparse = workload(every(15, 60))
    outcome = simulate(sparse, Fixed(1, "N = 1"), AT_ONCE)
    assert outcome.cold_starts == 1  # minute 0, before the first ping (minute 2)
    assert outcome.warmup_invocations == len(range(PING_PHASE_MIN, 60, 5))
    assert outcome.ping_inits == 0  # the pings found the environment the first request started


def test_requests_running_at_once_need_environments_of_their_own() -> None:
    long = Durations(((0.0, 50_000.0), (1.0, 50_000.0)), 50_000.0)  # longer than a minute's spacing
    burst = workload([0] * 20 + [3] + [0] * 19, long)
    assert simulate(burst, Fixed(1, "N = 1"), AT_ONCE).cold_starts == 2
    assert simulate(burst, Fixed(3, "N = 3"), AT_ONCE).cold_starts == 0
    assert simulate(burst, Oracle(0, "oracle"), AT_ONCE).cold_starts == 0


def test_a_request_during_a_pings_hold_finds_its_environments_busy() -> None:
    """One request, 50 ms after the ping of minute 12, and an environment the ping started."""
    requests = Requests([12 * MINUTE_S + 0.05], [1000.0], 20)  # 50 ms after the ping at minute 12
    outcome = simulate(workload([0] * 20), Fixed(1, "N = 1"), AT_ONCE, requests)
    assert outcome.cold_starts == 0  # N = 1 answers in about a millisecond
    outcome = simulate(workload([0] * 20), Fixed(4, "N = 4"), AT_ONCE, requests)
    assert outcome.cold_starts == 1  # the four hold for the delay: the request needs a fifth


def test_provisioned_environments_are_never_reclaimed() -> None:
    sparse = workload(every(30, 120))
    assert simulate(sparse, NoWarming(), AT_ONCE, provisioned=1).cold_starts == 0


def test_scoring_starts_after_the_learning_minutes() -> None:
    sparse = workload(every(15, 60))
    outcome = simulate(sparse, NoWarming(), Assumptions(scored_from_min=20))
    assert (outcome.requests, outcome.cold_starts) == (2, 2)  # minutes 30 and 45


class Recorder:
    """A policy that keeps what it was shown."""

    name = "recorder"

    def __init__(self) -> None:
        self.views: list[PingView] = []

    def instances(self, view: PingView) -> int:
        self.views.append(view)
        return 2


def test_a_policy_sees_concurrency_a_minute_late_with_its_own_minutes_marked() -> None:
    recorder = Recorder()
    simulate(workload([1] * 20), recorder, AT_ONCE)
    first, second = recorder.views[:2]
    assert (first.minute, second.minute) == (2, 7)
    assert set(first.concurrency) == {0}  # minute 1 just ended: not readable yet
    assert set(second.concurrency) == set(range(6))
    assert second.concurrency[2] == 2  # the ping's minute counts its two environments
    assert second.warm_up_minutes == {2}
    assert second.coming_need == 1


def test_arrivals_keep_each_minutes_count() -> None:
    counts = [0, 3, 0, 7]
    uniform = Requests.draw(workload(counts), Assumptions())
    assert uniform.arrivals == [60 + 10, 60 + 30, 60 + 50, *(180 + (i + 0.5) * 60 / 7 for i in range(7))]
    poisson = Requests.draw(workload(counts), Assumptions(arrivals="poisson"))
    assert [int(a // 60) for a in poisson.arrivals] == [1] * 3 + [3] * 7
    assert poisson.arrivals == sorted(poisson.arrivals)


def test_durations_are_drawn_between_the_percentiles() -> None:
    durations = Durations(((0.0, 10.0), (0.5, 20.0), (1.0, 100.0)), 30.0)
    drawn = Requests.draw(workload([500], durations), Assumptions()).durations_ms
    assert min(drawn) >= 10
    assert max(drawn) <= 100
    assert sum(d <= 20 for d in drawn) == pytest.approx(250, abs=50)
    assert set(Requests.draw(workload([5], durations), Assumptions(durations="mean")).durations_ms) == {30.0}


def test_a_round_is_billed_as_the_fan_out_runs_it() -> None:
    alone = round_shape(1769, 1, 75)
    assert (alone.billed_ms, alone.hold_ms) == (1.0, 0.0)  # nothing sent, the answer only
    ten = round_shape(1769, 10, 75)
    assert ten.billed_ms == pytest.approx(9 * ten.instance_ms + ten.send_spread_ms + ten.hold_ms + 100)


@pytest.mark.parametrize(("memory_mb", "instances"), [(128, 40), (128, 60), (128, 100), (256, 80)])
def test_a_round_flat_cannot_send_in_3_s_is_priced_as_the_tree_the_layer_sends(
    memory_mb: int, instances: int
) -> None:
    """The layer's own choice of shape (lambdawarmer.tree.fitting_tree) prices the ping: every index
    invoked once (N - 1 in all, none enlarged), at most MAX_DEPTH deep, and it bills less than
    the flat round it replaces (whose send spread holds every instance for N - 1 handshakes)."""
    flat = round_shape(memory_mb, instances, 75)
    assert flat.tree is None
    assert scheduled_round(memory_mb, instances, 75).timeout_needed_ms > 3000  # flat does not fit
    tree = round_shape(memory_mb, instances, 75, timeout_ms=3000)
    left_ms = 3000 - DEADLINE_MARGIN_MS
    chosen = fitting_tree(memory_mb, instances, 75, left_ms)
    assert tree.tree is not None
    assert chosen is not None
    assert (tree.tree.fan, tree.tree.depth) == (chosen.fan, chosen.depth)
    assert tree.originator_ms <= left_ms
    places = tree_places(2, instances, tree.tree.fan)
    assert sorted(places) == list(range(2, instances + 1))
    assert max(depth for depth, _ in places.values()) == tree.tree.depth <= MAX_DEPTH
    assert tree.billed_ms < flat.billed_ms


def test_the_replay_prices_an_owned_functions_pings_as_the_layer_sends_them() -> None:
    """A function whose pings carry its token (its timeout known): N = 40 at 128 MB / 3 s replayed
    as tree rounds, billed less than flat ones; the same warm-up invocations."""
    counts = [0] * 30
    flat, tree = (
        simulate(Workload("f", counts, SECOND, 128, timeout_ms), Fixed(40, "N = 40"), AT_ONCE)
        for timeout_ms in (None, 3000)
    )
    assert tree.warmup_invocations == flat.warmup_invocations > 0
    assert tree.ping_billed_ms < flat.ping_billed_ms


@pytest.mark.parametrize(("memory_mb", "instances"), [(128, 2), (128, 20), (1769, 100), (512, 40)])
def test_a_round_that_fits_flat_is_priced_flat(memory_mb: int, instances: int) -> None:
    """Flat when flat fits: small N costs nothing new."""
    flat = round_shape(memory_mb, instances, 75)
    assert round_shape(memory_mb, instances, 75, timeout_ms=3000) == flat


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"arrivals": "bursty"}, "arrival rule 'bursty': expected one of uniform, poisson"),
        ({"durations": "median"}, "duration rule 'median': expected one of percentiles, mean"),
        ({"idle_lifetime_min": 0}, "the ping period and the idle lifetime must be positive"),
    ],
)
def test_rules_not_known_are_named(rules: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Assumptions(**rules)  # type: ignore[arg-type]


def test_percentiles_must_cover_zero_to_one() -> None:
    with pytest.raises(ValueError, match="percentiles must run from quantile 0 to 1"):
        Durations(((0.25, 1.0), (1.0, 2.0)), 1.5)

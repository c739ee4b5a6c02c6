"""Control charts: a textbook p-chart, limits that follow each point's sample size, the four
Western Electric rules, and hours folded into days and shifts of the station's local time."""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, timezone

import pytest

from app.spc import DEFAULT_SHIFTS, Sample, charts, p_chart, samples, shift_at, western_electric
from db.dto import HourRow

# Montgomery, Introduction to Statistical Quality Control (6th ed.), Example 7.1 / Table 7.1:
# 30 samples of 50 frozen orange juice cans, nonconforming cans per sample.
ORANGE_JUICE = (12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22, 8, 10, 5, 13, 11, 20, 18,
                24, 15, 9, 12, 7, 13, 9, 6)


def test_textbook_example_gives_the_books_limits_and_out_of_control_samples() -> None:
    chart = p_chart(Sample(i + 1, str(i + 1), 50, d) for i, d in enumerate(ORANGE_JUICE))
    assert chart.centre == pytest.approx(0.2313, abs=5e-5)
    assert chart.points[0].ucl == pytest.approx(0.4102, abs=5e-5)
    assert chart.points[0].lcl == pytest.approx(0.0524, abs=5e-5)
    # the book: "samples 15 and 23 plot above the upper control limit"
    assert [p.key for p in chart.points if p.outside] == [15, 23]


def test_each_point_gets_limits_for_its_own_sample_size() -> None:
    chart = p_chart([Sample("a", "a", 100, 10), Sample("b", "b", 400, 20),
                     Sample("empty", "empty", 0, 0)])
    assert [p.key for p in chart.points] == ["a", "b"]          # no cans: no point
    assert chart.centre == pytest.approx(30 / 500)
    s1, s2 = math.sqrt(0.06 * 0.94 / 100), math.sqrt(0.06 * 0.94 / 400)
    assert chart.points[0].ucl == pytest.approx(0.06 + 3 * s1)
    assert chart.points[1].ucl == pytest.approx(0.06 + 3 * s2)
    assert chart.points[0].lcl == 0.0 and chart.points[1].lcl == pytest.approx(0.06 - 3 * s2)
    assert chart.points[0].z == pytest.approx(0.04 / s1)
    assert chart.points[1].z == pytest.approx(-0.01 / s2)


def test_all_good_gives_a_flat_chart_without_signals() -> None:
    chart = p_chart([Sample(d, str(d), 80, 0) for d in range(10)])
    assert chart.centre == 0 and not chart.flagged
    assert all(p.ucl == p.lcl == 0 for p in chart.points)


@pytest.mark.parametrize("z, expected", [
    ([3.5, 0.0, -3.2], [{1}, set(), {1}]),
    ([2.5, 0.0, 2.5], [{2}, set(), {2}]),
    ([2.5, 0.0, -2.5], [set(), set(), set()]),                   # opposite sides: no rule 2
    ([1.5, 1.5, 0.0, 1.5, 1.5], [{3}, {3}, set(), {3}, {3}]),
    ([1.5, 1.5, 0.0, 1.5, 0.5], [set()] * 5),
    ([0.5] * 7, [set()] * 7),
    ([0.5] * 8, [{4}] * 8),
    ([-0.3] * 4 + [0.0] + [-0.3] * 4, [set()] * 9),            # the centre line breaks a run
])
def test_western_electric_rules(z: list[float], expected: list[set[int]]) -> None:
    assert western_electric(z) == expected


def test_a_drifting_line_is_flagged_before_it_leaves_the_limits() -> None:
    # 20 days of 400 cans at 2.5 % and 1.5 % rejects in turn, then 8 days at 3 %: inside the
    # limits, but eight in a row above the centre line
    chart = p_chart([Sample(d, str(d), 400, 10 if d % 2 == 0 else 6) for d in range(20)]
                    + [Sample(20 + d, str(20 + d), 400, 12) for d in range(8)])
    assert chart.run_rules
    assert not any(p.outside for p in chart.points)
    assert [p.key for p in chart.points if 4 in p.rules] == list(range(20, 28))


CET = timezone(timedelta(hours=1))


def test_shift_windows_cross_midnight_and_belong_to_the_day_they_started() -> None:
    w = shift_at(datetime(2026, 3, 3, 4, 30, tzinfo=CET), tz=CET)
    assert (w.day, w.shift.name) == (date(2026, 3, 2), "Night")
    assert (w.start, w.end) == (datetime(2026, 3, 2, 22, tzinfo=CET),
                                datetime(2026, 3, 3, 6, tzinfo=CET))
    w = shift_at(datetime(2026, 3, 3, 13, 59, tzinfo=CET), tz=CET)
    assert (w.day, w.shift.name, w.start.time(), w.end.time()) == (
        date(2026, 3, 3), "Early", time(6), time(14))
    utc = datetime(2026, 3, 3, 13, 0, tzinfo=timezone.utc)       # 14:00 in CET
    assert shift_at(utc, tz=CET).shift.name == "Late"


def _row(hour_utc: datetime, total: int, rejected: int, review: int = 0) -> HourRow:
    return HourRow(1, "BEANS", hour_utc, total, review, rejected)


def test_hours_fold_into_local_days_and_shifts() -> None:
    u = timezone.utc
    rows = [_row(datetime(2026, 3, 2, 4, tzinfo=u), 10, 1),      # 05:00 CET: night of 03-01
            _row(datetime(2026, 3, 2, 5, tzinfo=u), 20, 2, 3),   # 06:00: early of 03-02
            _row(datetime(2026, 3, 2, 12, tzinfo=u), 30, 0),     # 13:00: early
            _row(datetime(2026, 3, 2, 21, tzinfo=u), 40, 4),     # 22:00: night of 03-02
            _row(datetime(2026, 3, 2, 23, tzinfo=u), 50, 5)]     # 00:00 03-03: night of 03-02
    by_shift = samples(rows, "shift", tz=CET)
    assert [(s.label, s.n, s.defects) for s in by_shift] == [
        ("03-01 Night", 10, 1), ("03-02 Early", 50, 2), ("03-02 Night", 90, 9)]
    by_day = samples(rows, "day", "review", tz=CET)
    assert [(s.label, s.n, s.defects) for s in by_day] == [
        ("2026-03-02", 100, 3), ("2026-03-03", 50, 0)]
    with pytest.raises(ValueError):
        samples(rows, "week")


def test_one_chart_per_product_or_per_side() -> None:
    u = timezone.utc
    t = datetime(2026, 3, 2, 8, tzinfo=u)
    rows = [HourRow(1, "BEANS", t, 10, 0, 1, "top"), HourRow(1, "BEANS", t, 10, 0, 0, "bottom"),
            HourRow(2, "PEAS", t, 5, 0, 1, "top")]
    assert [c.title for c in charts(rows)] == ["BEANS · bottom", "BEANS · top", "PEAS · top"]
    assert len(DEFAULT_SHIFTS) == 3


def test_run_rules_wait_for_enough_cans_per_period() -> None:
    # 15 cans a shift at about 8 % rejects: most shifts have 0 or 1 reject, below the centre
    # line, so "8 in a row" would fire by chance; only points outside the limits count then
    few = [Sample(i, str(i), 15, 1 if i % 3 == 0 else 0) for i in range(30)] + \
        [Sample(30, "30", 15, 9)]
    chart = p_chart(few)
    assert not chart.run_rules
    assert [p.key for p in chart.flagged] == [30] and chart.flagged[0].rules == (1,)
    many = p_chart([Sample(s.key, s.label, 150, 10 * s.defects) for s in few])
    assert many.run_rules and any({2, 3} & set(p.rules) for p in many.points)

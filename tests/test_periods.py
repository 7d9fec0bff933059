from datetime import date, timedelta

import pytest

from pt2qe.periods import PeriodError, last_four_quarters, reference_date


def _weeks(first_monday: date, quarters: list[str], weeks_per_quarter: int = 13):
    weeks = []
    day = first_monday
    for q in quarters:
        for _ in range(weeks_per_quarter):
            weeks.append((day, day + timedelta(days=6), q, None))
            day += timedelta(days=7)
    return weeks


QUARTERS = ["2024_Q01", "2024_Q02", "2024_Q03", "2024_Q04", "2025_Q01", "2025_Q02"]
WEEKS = _weeks(date(2024, 1, 1), QUARTERS)  # 2024_Q01 = 2024-01-01 .. 2024-03-31


def test_four_latest_complete_quarters_before_as_of():
    # 2025_Q01 spans 2024-12-30 .. 2025-03-30; as_of inside 2025_Q02
    period = last_four_quarters(WEEKS, date(2025, 4, 15))
    assert [q.code for q in period.quarters] == ["2024_Q02", "2024_Q03", "2024_Q04", "2025_Q01"]
    assert period.start == date(2024, 4, 1)
    assert period.end == date(2025, 3, 30)


def test_quarter_ending_on_as_of_is_not_complete():
    # 2025_Q01 ends 2025-03-30: complete only when end < as_of
    period = last_four_quarters(WEEKS, date(2025, 3, 30))
    assert period.quarters[-1].code == "2024_Q04"
    period = last_four_quarters(WEEKS, date(2025, 3, 31))
    assert period.quarters[-1].code == "2025_Q01"


def test_fewer_than_four_quarters_is_the_seed_error():
    with pytest.raises(PeriodError, match="Impossible de trouver 4 trimestres complets avant 2024-12-01"):
        last_four_quarters(WEEKS, date(2024, 12, 1))


def test_reference_date_from_flagged_week_then_today():
    weeks = list(WEEKS)
    assert reference_date(weeks, None, today=date(2030, 1, 1)) == date(2030, 1, 1)
    flagged = weeks[60]
    weeks[60] = (flagged[0], flagged[1], flagged[2], "X")
    assert reference_date(weeks, None, today=date(2030, 1, 1)) == flagged[0]
    assert reference_date(weeks, date(2025, 5, 5), today=date(2030, 1, 1)) == date(2025, 5, 5)

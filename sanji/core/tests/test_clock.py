import datetime as dt

import pytest

from sanji.core import clock


def test_frozen_clock_and_city_day():
    at = dt.datetime(2026, 2, 14, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 15th in Hohhot
    with clock.frozen(at):
        assert clock.now() == at
        assert clock.today() == dt.date(2026, 2, 15)
    assert clock.now() != at


def test_frozen_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="aware"), clock.frozen(dt.datetime(2026, 1, 1)):
        pass

from django.utils import translation

from sanji.calendar.templatetags.calendar_tags import calendar_problem_text, working_days
from sanji.calendar.workdays import CalendarNotConfigured


def test_the_missing_year_reads_in_the_readers_language():
    stored = CalendarNotConfigured(2027).condition  # what a case stores, whatever the language
    assert stored == "calendar for 2027 not configured"
    with translation.override("zh-hans"):
        assert calendar_problem_text(stored).startswith("2027 年的工作日历")
    with translation.override("en"):
        assert "2027" in calendar_problem_text(stored)
        assert "not configured" in calendar_problem_text(stored)
    with translation.override("zh-hans"):
        assert calendar_problem_text(stored, "public").startswith("2027 年法定节假日安排公布")
    assert calendar_problem_text("") == ""
    assert calendar_problem_text("something else") == "something else"


def test_a_count_of_working_days_is_singular_for_one_in_english():
    with translation.override("en"):
        assert working_days(1) == "1 working day"
        assert working_days(5) == "5 working days"
    with translation.override("zh-hans"):
        assert working_days(1) == "1 个工作日"
    assert working_days(None) == ""

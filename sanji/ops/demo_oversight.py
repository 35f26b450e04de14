"""The platform's periodic jobs over the demo's half-year, run by ``sanji demo`` when it starts.

In production these jobs run on a schedule (cron or a systemd timer; README, "Commands"):

- the daily case sweep: deemed acceptance (视为受理) of applications left undecided for 5 working
  days, and the deadline columns refreshed for the new date;
- the supervision sweep: the marks that come from time passing (warnings 预警, yellow and red
  cards, late acceptance, overrun steps, overdue follow-ups and supervision orders) and the live
  board's counts;
- early each month, the monthly assessment (绩效考评) and the community evaluation (社区综合考评)
  of the month before.

The demo has no scheduler, so it runs them itself, through the same services. While the demo cases
are seeded, the supervision sweep runs before each working day of the half-year
(:mod:`sanji.ops.demo_cases`), so marks are raised on their own days. Then, at every start, the
jobs below run as of the present (the board is as of the start), with the assessment of every
month of the half-year on the first run and of the month before at each later start (a
recomputation changes nothing already right).
"""

from __future__ import annotations

import datetime as dt

from sanji.cases import services as case_services
from sanji.core import clock
from sanji.core.actors import system_actor
from sanji.evaluation import services as evaluation_services
from sanji.ops.demo_cases import SIX_MONTHS
from sanji.supervision import services as supervision_services


def months_to_assess(today: dt.date, *, first_run: bool) -> list[dt.date]:
    """The first days of the months to assess: on the first run every whole month since the demo's
    half-year began, up to the month before ``today``; afterwards the month before ``today``."""
    last = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    if not first_run:
        return [last]
    begun = today - SIX_MONTHS
    month = (begun.replace(day=28) + dt.timedelta(days=4)).replace(day=1)  # the first whole month
    months = []
    while month <= last:
        months.append(month)
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


def run_periodic_jobs(*, first_run: bool) -> list[str]:
    """Run the sweeps and the assessment as the platform; answer one line per job for the console."""
    platform = system_actor("demo", channel="system")
    deemed = case_services.case_deem_overdue_acceptances(actor=platform)
    refreshed = case_services.case_deadlines_refresh(actor=platform)
    sweep = supervision_services.supervision_sweep(actor=platform)
    rules = ", ".join(f"{rule} {n}" for rule, n in sorted(sweep.per_rule.items()) if n) or "none new"
    lines = [
        f"case sweep: {len(deemed)} deemed accepted, {refreshed} open cases' deadlines refreshed",
        f"supervision sweep: {sweep.created} marks ({rules}); board of {sweep.board_cells} cells",
    ]
    lines += [f"supervision sweep: {problem}" for problem in sweep.problems]
    months = months_to_assess(clock.today(), first_run=first_run)
    scores = stations = 0
    for month in months:
        scores += evaluation_services.scores_compute(actor=platform, month=month)
        stations += evaluation_services.community_compute(actor=platform, month=month)
    if months:
        span = f"{months[0]:%Y-%m}" if len(months) == 1 else f"{months[0]:%Y-%m} to {months[-1]:%Y-%m}"
        lines.append(f"assessment {span}: {scores} monthly scores, {stations} community station evaluations")
    return lines

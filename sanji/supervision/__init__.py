"""Electronic supervision (电子监察): rules, marks, their lifecycle, supervision orders and the live board.

Supervision is an independent observer of approval cases. It reads the append-only case events and
the case's derived deadline columns (never writes a case), evaluates its event-driven rules right after
each case event commits (:data:`sanji.core.hooks.case_event_committed`) and its time-based rules in a
periodic, set-based sweep (``sanji supervision sweep``). Every hit is a mark
(:class:`~sanji.supervision.models.Mark`): 预警 warning, 黄牌 yellow card, 红牌 red card, or another
rule hit; a supervisor may escalate a mark to a 督办 supervision order with its own deadline, itself
watched by the sweep.
"""

"""Audit trail (痕迹保留): an append-only, hash-chained record of every action."""

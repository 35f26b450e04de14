"""API operations of the audit app (thin: parse, one service or selector call, schema)."""

from ninja import Router

router = Router(tags=["audit"])

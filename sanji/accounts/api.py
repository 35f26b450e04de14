"""API operations of the accounts app (thin: parse, one service or selector call, schema)."""

from ninja import Router

router = Router(tags=["accounts"])

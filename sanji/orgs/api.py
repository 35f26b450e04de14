"""API operations of the orgs app (thin: parse, one service or selector call, schema)."""

from ninja import Router

router = Router(tags=["orgs"])

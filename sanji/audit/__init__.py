"""Audit trail (痕迹保留): an append-only, hash-chained record of every action.

- Writing: every domain service calls :func:`sanji.audit.services.record` in its own transaction.
- Checking: :mod:`sanji.audit.verify` (``sanji audit verify``) recomputes the chain from the latest
  signed checkpoint and names the first changed, removed or inserted entry.
- Retention: ``sanji audit purge --before YYYY-MM-DD`` (the platform, never a person) removes a
  prefix older than ``SANJI_AUDIT_MIN_RETENTION_DAYS`` and leaves an Ed25519-signed checkpoint.
- Reading: the security auditor only (三员分立), within the reach of their grant
  (:mod:`sanji.audit.policies`); pages under ``/audit/``, API under ``/api/v1/audit``.
"""

"""Accounts: staff and applicants, roles held in units, passwords, second factor, API tokens."""

"""End-to-end tests: Playwright driving Debian's Chromium against a live server.

They sit above every app (they use the demo seeder of ``sanji.ops``) and hold no code of their own.
"""

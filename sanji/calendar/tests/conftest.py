"""Actors for the calendar tests."""

from __future__ import annotations

import pytest

from sanji.core.actors import Actor, Grant, system_actor
from sanji.core.roles import Role


def actor_with(role: str) -> Actor:
    return Actor(user_id=None, username="t", grants=(Grant(role=role, unit_id=1, region_path="150100/"),))


@pytest.fixture
def admin() -> Actor:
    return actor_with(Role.SYSTEM_ADMIN)


@pytest.fixture
def clerk() -> Actor:
    return actor_with(Role.WINDOW_CLERK)


@pytest.fixture
def cli() -> Actor:
    return system_actor("cli", channel="cli")

"""Who is acting: a user (or a department system) with the roles they hold, from which terminal.

An :class:`Actor` is built once per request (page, API call), per CLI run or per file-drop package
by ``accounts.selectors.actor_for`` and handed to every service and selector. It is immutable and
carries everything authorisation and the audit trail need, so neither has to query again.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Grant:
    """One role held in one unit.

    ``region_path`` is the materialised path of the unit's region (e.g. ``"150100/150105/"``): the
    grant reaches every row whose region path starts with it. ``department_id`` further limits
    department-bound roles to rows of that department (``None``: any department);
    ``department_kind`` names the department's line (民政, 公安 …) for rows that travel between
    levels, such as cases, which are limited by line rather than by one department.
    """

    role: str
    unit_id: int
    region_path: str
    department_id: int | None = None
    department_kind: str | None = None

    def reaches(self, region_path: str, department_id: int | None = None) -> bool:
        if not region_path.startswith(self.region_path):
            return False
        return self.department_id is None or self.department_id == department_id


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    username: str
    grants: tuple[Grant, ...] = ()
    unit_id: int | None = None  # the unit acted for: the terminal's unit, else the first grant's
    terminal_id: int | None = None
    terminal_code: str = ""
    ip: str = ""
    channel: str = "web"  # web | api | cli | file | system
    scopes: frozenset[str] | None = field(default=None)  # API token scopes; None = not limited

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    def has_role(self, *roles: str) -> bool:
        return any(g.role in roles for g in self.grants)

    def grants_for(self, *roles: str) -> tuple[Grant, ...]:
        return tuple(g for g in self.grants if g.role in roles)

    def allows_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None and self.channel != "system"


def system_actor(name: str = "system", channel: str = "system") -> Actor:
    """The platform itself (migrations, sweeps, the demo seeder); it holds no role."""
    return Actor(user_id=None, username=name, channel=channel)


def cli_actor() -> Actor:
    """The operator running a ``sanji`` command on the server, named by the OS account (``cli:<user>``)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(user_id=None, username=f"cli:{user}", channel="cli")


ANONYMOUS = Actor(user_id=None, username="anonymous", channel="web")


def actor_of(request: object) -> Actor:
    """The actor the middleware (or the API's token check) attached to a request; anonymous if none."""
    actor = getattr(request, "actor", ANONYMOUS)
    assert isinstance(actor, Actor)
    return actor

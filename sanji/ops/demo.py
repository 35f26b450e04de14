"""The embedded Hohhot demo: real divisions and organisation, one login per role in several units.

Everything is created through the same services a real deployment uses, acting as the platform
itself (``system_actor``), so the demo's audit trail starts intact. The logins, terminal enrolment
codes and second-factor secrets are shown once by the services; the demo keeps them in
``$SANJI_DATA_DIR/demo-logins.json`` (mode 0600) so that a second ``make demo`` can print them again.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pyotp
from django.conf import settings
from django.db import transaction

from sanji.accounts import selectors as account_selectors
from sanji.accounts import services as account_services
from sanji.accounts.models import User
from sanji.calendar import services as calendar_services
from sanji.catalog import services as catalog_services
from sanji.core.actors import Actor, system_actor
from sanji.core.roles import SECOND_FACTOR_REQUIRED, Role
from sanji.ops import demo_changes, demo_population, demo_sharing
from sanji.orgs import services as org_services
from sanji.orgs.models import Unit

CITY_CODE = "150100"
#: Every demo person signs in with this password (12+ characters, 4 classes, no username in it).
DEMO_PASSWORD = "Hohhot#Demo2026"
#: The ID number the demo citizen (zhangsan) registered on the portal with: their online
#: applications for themselves carry it (a synthetic number of 赛罕区, valid check digit).
DEMO_CITIZEN_ID = "150105198803120417"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    full_name: str
    role: str | None  # None: an applicant (citizen) with no staff role
    unit_code: str | None


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("secadmin", "安全管理员 李娜", Role.SECURITY_ADMIN, "150100-OPS"),
    DemoPerson("sysadmin", "系统管理员 王磊", Role.SYSTEM_ADMIN, "150100-OPS"),
    DemoPerson("auditor", "安全审计员 赵敏", Role.SECURITY_AUDITOR, "150100-OPS"),
    DemoPerson("city.clerk", "刘洋", Role.WINDOW_CLERK, "150100-GSC-W-civil_affairs"),
    DemoPerson("city.approver", "陈静", Role.APPROVER, "150100-DEPT-civil_affairs"),
    DemoPerson("city.head", "孙涛", Role.DEPARTMENT_HEAD, "150100-DEPT-civil_affairs"),
    DemoPerson("city.supervisor", "周强", Role.SUPERVISOR, "150100-SUP"),
    DemoPerson("city.analyst", "吴芳", Role.ANALYST, "150100-GSC"),
    DemoPerson("city.dataofficer", "郑伟", Role.DEPARTMENT_DATA_OFFICER, "150100-DEPT-civil_affairs"),
    DemoPerson("saihan.clerk", "王芳", Role.WINDOW_CLERK, "150105-CSC-W-civil_affairs"),
    DemoPerson("saihan.reviewer", "李强", Role.REVIEWER, "150105-DEPT-civil_affairs"),
    DemoPerson("saihan.head", "张丽", Role.DEPARTMENT_HEAD, "150105-DEPT-civil_affairs"),
    DemoPerson("saihan.supervisor", "刘军", Role.SUPERVISOR, "150105-SUP"),
    DemoPerson("saihan.population", "巴特尔", Role.POPULATION_OFFICER, "150105-DEPT-health"),
    DemoPerson("saihan.police", "高峰", Role.POLICE_VERIFIER, "150105-DEPT-public_security"),
    DemoPerson("jiankang.worker", "其其格", Role.COMMUNITY_WORKER, "150105001001-CS"),
    DemoPerson("xincheng.clerk", "马丽", Role.WINDOW_CLERK, "150102-CSC-W-civil_affairs"),
    # The housing line, for the three-level matter (公共租赁住房保障资格审核): jiankang.worker receives
    # it at the community station, the district accepts and reviews, the city reviews and decides,
    # and the result returns to the station.
    DemoPerson("saihan.housing.clerk", "赵磊", Role.WINDOW_CLERK, "150105-CSC-W-housing"),
    DemoPerson("saihan.housing.reviewer", "钱坤", Role.REVIEWER, "150105-DEPT-housing"),
    DemoPerson("city.housing.reviewer", "高明", Role.REVIEWER, "150100-DEPT-housing"),
    DemoPerson("city.housing.approver", "何琳", Role.APPROVER, "150100-DEPT-housing"),
    DemoPerson("zhangsan", "张三", None, None),
)


@dataclass
class DemoLogin:
    username: str
    full_name: str
    role: str
    unit: str
    password: str
    terminal_code: str = ""
    totp_secret: str = ""


def logins_file() -> Path:
    return Path(settings.DATA_DIR) / "demo-logins.json"


def load_logins() -> list[DemoLogin] | None:
    path = logins_file()
    if not path.exists():
        return None
    logins = [DemoLogin(**row) for row in json.loads(path.read_text())]
    # The file belongs to this database only if its people exist in it.
    if User.objects.filter(username__in=[x.username for x in logins]).count() != len(logins):
        return None
    return logins


def _save_logins(logins: list[DemoLogin]) -> None:
    path = logins_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump([asdict(x) for x in logins], fh, ensure_ascii=False, indent=1)
    tmp.replace(path)


def seed_reference_data() -> list[str]:
    """Regions, organisation, working-day calendar and matter catalogue (all idempotent)."""
    platform = system_actor("demo", channel="system")
    lines = []
    regions = org_services.region_import_path(actor=platform)
    lines.append(f"regions: {regions}")
    structure = org_services.org_structure_seed(actor=platform, city_code=CITY_CODE)
    lines.append(
        f"organisation: {structure.units_created_total} units created, {structure.units_existing} existing"
    )
    calendar = calendar_services.calendar_seed_from_chinesecalendar(actor=platform)
    lines.append(f"calendar: {calendar}")
    matters = catalog_services.catalog_seed(actor=platform)
    lines.append(f"catalogue: {matters} matters")
    return lines


def seed_people() -> list[DemoLogin]:
    """One person per role and unit of :data:`DEMO_PEOPLE`, each with a terminal at their unit."""
    platform = system_actor("demo", channel="system")
    wanted = [p.unit_code for p in DEMO_PEOPLE if p.unit_code]
    units = {u.code: u for u in Unit.objects.filter(code__in=wanted).select_related("parent")}
    terminal_codes: dict[str, str] = {}
    logins: list[DemoLogin] = []
    security_admin: Actor | None = None
    with transaction.atomic():
        for person in DEMO_PEOPLE:
            if person.role is None:  # a citizen registers on the portal, with their ID number
                user = account_services.applicant_register(
                    username=person.username,
                    full_name=person.full_name,
                    id_number=DEMO_CITIZEN_ID,
                    phone="",
                    password=DEMO_PASSWORD,
                    ip="",
                )
                password = DEMO_PASSWORD
            else:
                user, password = account_services.user_create(
                    actor=platform,
                    username=person.username,
                    full_name=person.full_name,
                    password=DEMO_PASSWORD,
                    must_change_password=False,
                )
            login = DemoLogin(
                username=person.username,
                full_name=person.full_name,
                role=str(Role(person.role).label) if person.role else str(Role.APPLICANT.label),
                unit="",
                password=password,
            )
            if person.role and person.unit_code:
                unit = units[person.unit_code]
                account_services.role_grant(actor=platform, user=user, role=person.role, unit=unit)
                login.unit = f"{unit.parent.name} {unit.name}" if unit.parent else unit.name
                if person.role == Role.SECURITY_ADMIN:
                    # Terminals are registered by the security administrator, as in production
                    # (DEMO_PEOPLE lists them first).
                    security_admin = account_selectors.actor_for(user, channel="cli")
                if unit.code not in terminal_codes:
                    assert security_admin is not None, "the security administrator must come first"
                    _terminal, code = org_services.terminal_register(
                        actor=security_admin, unit=unit, name=f"{unit.name} 演示工作站"
                    )
                    terminal_codes[unit.code] = code
                login.terminal_code = terminal_codes[unit.code]
                if person.role in SECOND_FACTOR_REQUIRED:
                    uri = account_services.totp_begin(user=user)
                    secret = pyotp.parse_uri(uri).secret
                    account_services.totp_confirm(
                        user=user, code=pyotp.TOTP(secret).now(), ip="127.0.0.1", actor=platform
                    )
                    login.totp_secret = secret
            logins.append(login)
    demo_population.seed_demo_population()  # places and residents first: later demo data needs them
    demo_sharing.seed_demo_sharing()  # a data-sharing grant, once residents exist
    _save_logins(logins)
    demo_changes.seed_demo_changes()  # needs the people above; skips without residents
    return logins


def totp_now(username: str) -> str:
    """The current second-factor code of a demo person (only for people listed in the demo file)."""
    logins = load_logins() or []
    for login in logins:
        if login.username == username and login.totp_secret:
            return str(pyotp.TOTP(login.totp_secret).now())
    raise LookupError(f"{username} is not a demo person with a second factor")


def format_logins(logins: list[DemoLogin], base_url: str) -> str:
    rows = [
        f"Sanji demo — {base_url}",
        f"All demo people use the password {DEMO_PASSWORD!r}. Staff sign in from a registered terminal:",
        "enter the terminal enrolment code once on the login page. Administrators and supervisors",
        "also need a TOTP code: add the secret to an authenticator, or run `sanji demo totp USERNAME`.",
        "",
        f"{'username':<24} {'role':<14} {'unit':<28} {'terminal enrolment code':<36} TOTP secret",
    ]
    for x in logins:
        rows.append(f"{x.username:<24} {x.role:<14} {x.unit[:28]:<28} {x.terminal_code:<36} {x.totp_secret}")
    rows.append("")
    rows.append("Citizens: the portal login (zhangsan) needs no terminal; anyone can browse the catalogue.")
    return "\n".join(rows)

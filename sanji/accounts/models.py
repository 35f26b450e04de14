"""Account tables.

Authentication state (lockout, password age, TOTP) lives on :class:`User`; what a person may do
lives in :class:`RoleAssignment` rows (a role held in a unit). Tokens and password history store
hashes only.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from sanji.core.roles import Role
from sanji.orgs.models import Terminal, Unit


class User(AbstractUser):
    """A staff member, an applicant (citizen or enterprise) or a department system's account."""

    full_name = models.CharField(max_length=100, blank=True)
    # Applicants are identified by a blind index of their ID number (the number itself is not kept here).
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True)
    # … and its masked form (``150102********1237``), shown as the applicant of their own online applications.
    id_number_masked = models.CharField(max_length=32, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    is_system_account = models.BooleanField(default=False, help_text="a department system (API client)")
    password_changed_at = models.DateTimeField(null=True, blank=True)
    must_change_password = models.BooleanField(default=True)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # AES-GCM ciphertext of the base32 TOTP secret (sanji.core.crypto, key "field"); never the secret itself.
    totp_secret = models.CharField(max_length=255, blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(default=0, help_text="last accepted TOTP step (no replay)")
    # Where the account was created: lets the creating security administrator see it before any role.
    created_region_path = models.CharField(max_length=80, blank=True, db_index=True)
    created_by = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return self.full_name or self.username


class RoleAssignment(models.Model):
    """One role held by one person in one unit. A person may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="role_assignments")
    region_path = models.CharField(max_length=80, db_index=True)
    granted_at = models.DateTimeField()
    granted_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="accounts_one_role_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.unit}"


class PasswordHistory(models.Model):
    """Hashes of a user's previous passwords (the last five may not be reused)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"password of {self.user_id} set {self.created_at:%Y-%m-%d}"


class LoginThrottle(models.Model):
    """Failed logins per source address, so guessing across many usernames is slowed too."""

    ip = models.CharField(max_length=45, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    blocked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.ip}: {self.failures} failures"


class ApiToken(models.Model):
    """A bearer token for the API: hashed at rest, scoped, expiring, revocable."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    terminal = models.ForeignKey(Terminal, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

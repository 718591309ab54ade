import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models

from majed_vanna.roles import Role, permissions_for_role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **fields):
        user = self.model(username=self.normalize_email(username).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **fields):
        """``manage.py createsuperuser`` creates an ``admin`` role user (contract §7)."""
        fields["role"] = Role.ADMIN
        return self.create_user(username, password, **fields)


class User(AbstractBaseUser):
    """An account. ``username`` is an email address; ``role`` decides the permissions (contract §4)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.EmailField(unique=True, max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.NORMAL)
    is_active = models.BooleanField(default=True)
    must_change_password = models.BooleanField(default=False)
    # Tokens issued before this moment are refused: set on password change/reset and deactivation.
    tokens_valid_after = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["username"]
        # ``ordering=-created_at`` (and its ``id`` tie-breaker) reads the index instead of sorting the table.
        indexes = [models.Index(fields=["created_at", "id"], name="user_created_idx")]

    def __str__(self) -> str:
        return self.username

    @property
    def mv_permissions(self) -> frozenset[str]:
        return permissions_for_role(self.role) if self.is_active else frozenset()

    @property
    def roles(self) -> list[str]:
        return [self.role]

    # --- Django admin access: staff are active admins.
    @property
    def is_staff(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def is_superuser(self) -> bool:
        return self.is_staff

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label) -> bool:
        return self.is_staff


class AuditLog(models.Model):
    """An append-only record of a state change or security event (contract §5 "Audit").

    ``user_id``/``username`` name the actor (a user, or an integration client's id and name);
    ``resource``/``resource_id`` the target. ``details`` never holds a secret.
    """

    id = models.BigAutoField(primary_key=True)
    timestamp = models.DateTimeField(auto_now_add=True)
    user_id = models.CharField(max_length=64, blank=True, default="")
    username = models.CharField(max_length=254, blank=True, default="")
    action = models.CharField(max_length=64)
    resource = models.CharField(max_length=64, blank=True, default="")
    resource_id = models.CharField(max_length=64, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    success = models.BooleanField(default=True)
    error_message = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-timestamp", "-id"]
        # The list's order (newest first, ``id`` breaking ties), alone and after each equality filter the API
        # offers: a filtered page reads its rows off one index, newest first, and stops (no sort, no scan).
        indexes = [
            models.Index(fields=["timestamp", "id"], name="audit_time_idx"),
            models.Index(fields=["action", "timestamp", "id"], name="audit_action_time_idx"),
            models.Index(fields=["user_id", "timestamp", "id"], name="audit_user_time_idx"),
            models.Index(fields=["resource", "timestamp", "id"], name="audit_resource_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.action} {self.username}"

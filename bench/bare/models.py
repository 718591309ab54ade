import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models


class User(AbstractBaseUser):
    """Majed Vanna's users, read in place (the bare project owns no table)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.EmailField(unique=True, max_length=254)
    role = models.CharField(max_length=16)
    is_active = models.BooleanField(default=True)
    must_change_password = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = BaseUserManager()
    USERNAME_FIELD = "username"

    class Meta:
        managed = False
        db_table = "accounts_user"
        app_label = "bare"

"""Input and output shapes of the accounts endpoints (contract §5). Shape only: no rules here."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from majed_vanna.api.pagination import TOTAL_DESCRIPTION
from majed_vanna.roles import Role

from .models import AuditLog

PASSWORD_MAX = 4096


def _password_field(**kwargs):
    return serializers.CharField(
        max_length=PASSWORD_MAX, trim_whitespace=False, write_only=True, style={"input_type": "password"}, **kwargs
    )


# --- auth
class LoginInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254, help_text="The account's email address.")
    password = _password_field()
    remember_me = serializers.BooleanField(default=False, help_text="Refresh token lasts 30 days instead of 1.")


USER_ID_ALIAS = "The same value as user_id (the contract's login payload names it id)."


class TokenUserOutputSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    id = serializers.UUIDField(help_text=USER_ID_ALIAS)
    username = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    roles = serializers.ListField(child=serializers.CharField())
    permissions = serializers.ListField(child=serializers.CharField())
    must_change_password = serializers.BooleanField()


class TokenPairOutputSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField(default="bearer")
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class LoginOutputSerializer(TokenPairOutputSerializer):
    user = TokenUserOutputSerializer()


class RefreshInputSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=PASSWORD_MAX, trim_whitespace=False)


class LogoutInputSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(
        max_length=PASSWORD_MAX, trim_whitespace=False, required=False, help_text="Blacklisted when given."
    )


class LogoutOutputSerializer(serializers.Serializer):
    refresh_revoked = serializers.BooleanField()


class ChangePasswordInputSerializer(serializers.Serializer):
    current_password = _password_field()
    new_password = _password_field(help_text="At least 12 characters; not common, numeric or like the username.")


class MeUserOutputSerializer(serializers.Serializer):
    principal_type = serializers.ChoiceField(choices=["user"])
    user_id = serializers.UUIDField()
    id = serializers.UUIDField(help_text=USER_ID_ALIAS)
    username = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    roles = serializers.ListField(child=serializers.CharField())
    permissions = serializers.ListField(child=serializers.CharField())
    must_change_password = serializers.BooleanField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)


class MeClientOutputSerializer(serializers.Serializer):
    principal_type = serializers.ChoiceField(choices=["integration_client"])
    client_id = serializers.CharField()
    client_name = serializers.CharField()
    role = serializers.CharField(help_text='Always "integration".')
    roles = serializers.ListField(child=serializers.CharField())
    permissions = serializers.ListField(child=serializers.CharField())
    must_change_password = serializers.BooleanField()


# --- users
class UserOutputSerializer(serializers.Serializer):
    user_id = serializers.UUIDField(source="id")
    username = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    active = serializers.BooleanField(source="is_active")
    must_change_password = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)
    locked = serializers.SerializerMethodField(help_text="Login locked out after repeated failures.")

    def get_locked(self, user) -> bool:
        return user.username in self.context.get("locked_usernames", ())


class _PageFields(serializers.Serializer):
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    has_next = serializers.BooleanField()


@extend_schema_serializer(many=False)  # already the page: no list wrapping
class UserListOutputSerializer(_PageFields):
    users = UserOutputSerializer(many=True)


class UserCreateInputSerializer(serializers.Serializer):
    username = serializers.EmailField(max_length=254)
    password = _password_field(help_text="At least 12 characters; not common, numeric or like the username.")
    role = serializers.ChoiceField(choices=Role.choices, default=Role.NORMAL)
    must_change_password = serializers.BooleanField(
        default=True, help_text="Defaults to true: the new user sets their own password at first login."
    )


class UserUpdateInputSerializer(serializers.Serializer):
    """PUT needs every field, PATCH any subset. Read-only fields of the user object are ignored; any other
    field (e.g. ``password``) is refused: use ``auth/change-password`` or ``reset-password``."""

    IGNORED = frozenset({"user_id", "created_at", "updated_at", "last_login", "locked"})

    username = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)
    active = serializers.BooleanField()
    must_change_password = serializers.BooleanField()

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) - self.IGNORED if hasattr(self.initial_data, "keys") else ()
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here."] for name in sorted(unknown)}
            )
        return attrs


class ResetPasswordOutputSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    username = serializers.EmailField()
    temporary_password = serializers.CharField(help_text="Shown once; null when an idempotent request is replayed.")
    must_change_password = serializers.BooleanField()


class ConversationSummarySerializer(serializers.Serializer):
    """Filled in by the agent app; each item is passed through as the agent describes it."""

    def to_representation(self, instance):
        return dict(instance)


@extend_schema_serializer(many=False)  # already the page: no list wrapping
class ConversationListOutputSerializer(_PageFields):
    conversations = ConversationSummarySerializer(many=True)


# --- audit
class AuditLogOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = [
            "id",
            "timestamp",
            "user_id",
            "username",
            "action",
            "resource",
            "resource_id",
            "details",
            "ip_address",
            "user_agent",
            "request_id",
            "success",
            "error_message",
        ]
        read_only_fields = fields


@extend_schema_serializer(many=False)  # already the page: no list wrapping
class AuditLogListOutputSerializer(_PageFields):
    logs = AuditLogOutputSerializer(many=True)
    total = serializers.IntegerField(help_text=TOTAL_DESCRIPTION)
    total_is_estimate = serializers.BooleanField(
        help_text="True when total is an estimate (large tables are never counted in full on each page)."
    )

from .audit import AuditLogViewSet
from .auth import ChangePasswordView, LoginView, LogoutView, MeView, RefreshView
from .users import UserViewSet

__all__ = ["AuditLogViewSet", "ChangePasswordView", "LoginView", "LogoutView", "MeView", "RefreshView", "UserViewSet"]

"""The project's admin site: Django's, plus the contract's must-change-password gate (contract §4).

A user who must change their password is refused everywhere but the four auth endpoints; that includes
the admin site. They are sent to its login page with a message saying what to do.

Accounts sign in with their e-mail address, so the login form says "Email". The navigation sidebar is off:
beside the filter sidebar it left change lists 750 px of a 1400-px screen (the index and breadcrumbs remain).
"""

from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig

PASSWORD_CHANGE_MESSAGE = (
    "You must change your password before using the admin: POST /api/v1/auth/change-password "
    "with your temporary password, then sign in again."
)


def _must_change_password(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and getattr(user, "must_change_password", False))


class MajedVannaAdminSite(admin.AdminSite):
    site_header = "Majed Vanna administration"
    site_title = "Majed Vanna admin"
    enable_nav_sidebar = False

    @property
    def login_form(self):
        from .admin_login import EmailLoginForm  # forms import models: not before the app registry is ready

        return EmailLoginForm

    def has_permission(self, request):
        return super().has_permission(request) and not _must_change_password(request)

    def login(self, request, extra_context=None):
        if request.method == "GET" and _must_change_password(request):
            messages.warning(request, PASSWORD_CHANGE_MESSAGE)
        return super().login(request, extra_context)


class MajedVannaAdminConfig(AdminConfig):
    default_site = "majed_vanna.admin_site.MajedVannaAdminSite"

from django.urls import re_path

from majed_vanna.api.routers import ApiRouter

from . import views

router = ApiRouter()
router.register("users", views.UserViewSet, basename="users")
router.register("audit-logs", views.AuditLogViewSet, basename="audit-logs")

urlpatterns = [
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/refresh/?$", views.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/me/?$", views.MeView.as_view(), name="auth-me"),
    re_path(r"^auth/change-password/?$", views.ChangePasswordView.as_view(), name="auth-change-password"),
    *router.urls,
]

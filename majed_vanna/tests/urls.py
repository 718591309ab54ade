"""The real URLconf plus test-only views under /api/v1/test/ (``@pytest.mark.urls`` or the daphne test
server settings)."""

from django.urls import include, path

from majed_vanna.urls import handler400, handler403, handler404, handler500
from majed_vanna.urls import urlpatterns as real_urlpatterns

from . import views

test_views = [
    path("ok", views.OkView.as_view()),
    path("validate", views.ValidateView.as_view()),
    path("boom", views.BoomView.as_view()),
    path("django-boom", views.django_boom),
    path("plain-405", views.plain_text_405),
    path("items", views.ItemsView.as_view()),
    path("things", views.ThingsView.as_view()),
    path("upload-size", views.UploadSizeView.as_view()),
    path("throttled", views.ThrottledView.as_view()),
    path("user-throttled", views.UserThrottledView.as_view()),
    path("async-admin", views.async_admin),
    path("async-boom", views.async_boom),
    path("async-breaker", views.async_breaker),
    path("async-stream", views.async_stream),
    path("async-db-state", views.async_db_state),
    path("plain", views.plain_ok),
]

urlpatterns = [path("api/v1/test/", include(test_views)), *real_urlpatterns]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

from django.urls import re_path

from majed_vanna.api.routers import ApiRouter

from . import views

router = ApiRouter()

# Contract paths have no trailing slash; both forms answer.
urlpatterns = [
    re_path(r"^health/?$", views.health, name="health"),
    re_path(r"^health/live/?$", views.health_live, name="health-live"),
    re_path(r"^health/ready/?$", views.health_ready, name="health-ready"),
    re_path(r"^health/detailed/?$", views.health_detailed, name="health-detailed"),
    re_path(
        r"^health/circuit-breakers/(?P<name>[A-Za-z0-9_.-]{1,64})/reset/?$",
        views.circuit_breaker_reset_view,
        name="health-circuit-breaker-reset",
    ),
    *router.urls,
]

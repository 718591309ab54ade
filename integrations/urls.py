from majed_vanna.api.routers import ApiRouter

from .views import IntegrationClientViewSet

router = ApiRouter()
router.register("integrations/clients", IntegrationClientViewSet, basename="integration-clients")

urlpatterns = router.urls

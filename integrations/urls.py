from majed_vanna.api.routers import ApiRouter

router = ApiRouter()

urlpatterns = router.urls

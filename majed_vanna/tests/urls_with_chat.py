"""The project's URLconf plus a stand-in ``chat`` route, as the agent issue will add (for the landing page test)."""

from django.http import HttpResponse
from django.urls import path

from majed_vanna.urls import urlpatterns as real_urlpatterns

urlpatterns = [path("chat/", lambda request: HttpResponse("chat"), name="chat"), *real_urlpatterns]

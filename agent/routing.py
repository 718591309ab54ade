"""WebSocket routes of the agent (contract §5 "Agent" → Chat), served by ``majed_vanna.asgi``."""

from django.urls import path

from .consumers import ChatConsumer

websocket_urlpatterns = [path("ws/agent/chat/", ChatConsumer.as_asgi())]

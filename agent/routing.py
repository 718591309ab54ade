"""WebSocket routes of the agent (filled by the agent issue)."""

websocket_urlpatterns: list = []

"""The agent's REST layer (contract §5 "Agent"): serializers, views and routes per resource."""

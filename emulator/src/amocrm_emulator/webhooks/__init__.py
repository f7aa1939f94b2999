"""Account webhooks: the v2-shaped bodies amoCRM sends and their delivery."""

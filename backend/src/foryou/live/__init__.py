"""Live updates: amoCRM's webhooks and events in, Server-Sent Events out to each broker."""

"""Settings of the projector."""

"""Lambda entry point of the projector."""

"""Models of the inventory service: products, reservations, settings."""

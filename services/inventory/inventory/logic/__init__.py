"""Business rules of the inventory service."""

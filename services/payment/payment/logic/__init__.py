"""Business rules of the payment service."""

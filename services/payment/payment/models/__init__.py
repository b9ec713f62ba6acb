"""Models of the payment service: payments, the simulated gateway, settings and errors."""

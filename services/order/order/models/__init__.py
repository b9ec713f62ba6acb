"""Models of the order service: the order, the place-order request, settings and errors."""

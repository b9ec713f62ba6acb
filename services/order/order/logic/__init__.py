"""Business rules of the order service, as plain functions of models and the repository."""

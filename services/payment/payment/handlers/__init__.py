"""Lambda entry points of the payment service: thin adapters from SQS."""

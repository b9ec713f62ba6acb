"""Lambda entry points of the inventory service: thin adapters from API Gateway and SQS."""

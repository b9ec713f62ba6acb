"""Lambda entry points of the order service: thin adapters from API Gateway, SQS and the stream."""

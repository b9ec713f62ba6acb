"""Storage of the payment service: its one DynamoDB table."""

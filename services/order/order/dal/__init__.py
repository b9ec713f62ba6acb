"""Storage of the order service: its one DynamoDB table."""

"""Storage of the inventory service: its one DynamoDB table."""

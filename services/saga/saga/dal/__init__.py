"""Storage of the projector: its one DynamoDB table."""

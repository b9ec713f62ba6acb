"""The payment service: charges an order once, refunds a charge once, and says so on the bus."""

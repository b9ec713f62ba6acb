"""Developer commands: the local cloud, deploys, seeding, the demo, redrive and measurements."""

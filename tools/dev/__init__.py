"""The workshop's developer tools: the local cloud, deploy helpers, seed, demo, sam local invoke, the IAM report."""

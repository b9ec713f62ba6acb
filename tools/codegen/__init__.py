"""The workshop's generators: sample events, JSON Schemas (with the compatibility gate), OpenAPI, the
event catalogue."""

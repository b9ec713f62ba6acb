"""shopctl, the operator's CLI for a deployed shop stack (`shopctl --help`; the commands are in app.py).

Its own package (ops/shopctl/pyproject.toml), installed on its own or by `make setup`: it imports boto3,
typer, rich and the event contract (`shop_contracts`), never the services' code or the workshop's.
"""

"""shopctl, the operator CLI (scripts/shopctl/app.py)."""

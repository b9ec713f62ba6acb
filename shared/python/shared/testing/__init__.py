"""Test-only decorators of the ports, wired in by `shared.seams` on test stacks and never otherwise."""

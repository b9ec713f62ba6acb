"""The project's front door: every make target is listed by `make help`, and the licence is the one declared."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_make_help_lists_every_target() -> None:
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert phony is not None
    listed = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    shown = set(re.findall(r"^  make (\S+)", listed, re.MULTILINE))
    assert shown == set(phony.group(1).split())


def test_the_licence_file_matches_the_declared_licence() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]["text"]
    contracts = tomllib.loads((ROOT / "contracts" / "pyproject.toml").read_text())["project"]["license"]["text"]
    assert declared == contracts == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")

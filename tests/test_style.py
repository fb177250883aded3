"""The code base: ruff keeps it lint-clean and formatted (skipped when ruff is absent)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

# The ruff installed beside this Python (the test extras), else one on PATH.
_LOCAL = Path(sys.executable).parent / "ruff"
RUFF = str(_LOCAL) if _LOCAL.exists() else shutil.which("ruff")


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip install -e '.[test]')")
@pytest.mark.parametrize(
    "args", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"]
)
def test_ruff(args):
    result = subprocess.run([RUFF, *args], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

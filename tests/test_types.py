"""mypy keeps the package type-clean under [tool.mypy] (skipped when mypy is absent)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import REPO

# The mypy installed beside this Python (the test extras), else one on PATH.
_LOCAL = Path(sys.executable).parent / "mypy"
MYPY = str(_LOCAL) if _LOCAL.exists() else shutil.which("mypy")

# The cache lives outside the checkout, one per checkout: a warm run takes seconds,
# and two checkouts (worktrees, CI) tested at once never share one.
CACHE = Path(tempfile.gettempdir()) / (
    "newsletter-mypy-" + hashlib.sha256(str(REPO).encode()).hexdigest()[:16]
)


@pytest.mark.skipif(MYPY is None, reason="mypy is not installed (pip install -e '.[test]')")
def test_mypy():
    result = subprocess.run(
        # --python-executable: a mypy from PATH still reads this Python's packages.
        [MYPY, "--python-executable", sys.executable, "--cache-dir", str(CACHE), "newsletter"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr

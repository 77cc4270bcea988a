"""How a run of the suite ends when it finds nothing to test."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_run_that_collects_no_test_fails_with_1_not_5():
    run = ["-p", "no:cacheprovider", "-q", "-k", "matches_no_test", "tests/portal/test_net.py"]
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", *run],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "No test was collected" in result.stdout

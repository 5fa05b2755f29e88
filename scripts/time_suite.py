"""Run the test suite with the slowest tests listed, and time it (`.ci/run`, `make test-timed`).

    python scripts/time_suite.py [--output metrics/test_suite.json] [-- pytest args (default: tests)]

Exits with pytest's code, except that "no tests collected" (pytest's 5) is a failure with a message:
a CI run that collects nothing has not passed. With --output, also writes the wall time, the machine's
core count and the counts of passed, failed and skipped tests, which scripts/metrics_table.py puts
into README's Tests section.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NO_TESTS_COLLECTED = 5


def counts(junit: Path) -> dict:
    """Passed, failed, skipped and error counts from pytest's JUnit XML report."""
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    total, failed, errors, skipped = (int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped"))
    return {"passed": total - failed - errors - skipped, "failed": failed, "errors": errors, "skipped": skipped}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="also write the time and counts as JSON")
    parser.add_argument("pytest_args", nargs="*", help="pytest arguments after --, e.g. a test file (default: tests)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-rs", "--durations=15", f"--junitxml={junit}", *(args.pytest_args or ["tests"])]
        start = time.perf_counter()
        code = subprocess.run(command, cwd=ROOT).returncode
        seconds = time.perf_counter() - start
        if code == NO_TESTS_COLLECTED:
            print("pytest collected no tests: is this a complete checkout?", file=sys.stderr)
            return 1
        if args.output and junit.exists():
            report = {"seconds": round(seconds), "cores": os.cpu_count(), "exit_code": code, **counts(junit),
                      "command": "make test-timed"}
            args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")
    return code


if __name__ == "__main__":
    sys.exit(main())

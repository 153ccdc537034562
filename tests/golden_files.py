"""Compare produced text with a golden file, or rewrite it under --update-golden."""

from __future__ import annotations

from pathlib import Path


def assert_golden(expected_path: Path, actual: str, update: bool) -> None:
    if update or not expected_path.exists():
        if not update:
            raise AssertionError(f"{expected_path} is missing; run pytest --update-golden")
        expected_path.parent.mkdir(parents=True, exist_ok=True)
        expected_path.write_text(actual, encoding="utf-8")
        return
    expected = expected_path.read_text(encoding="utf-8")
    assert actual == expected, f"{expected_path} differs (pytest --update-golden to accept)"

"""What every CLI test checks of a failure: one line on stderr, the exit code, no
traceback."""

from __future__ import annotations


def one_line_error(r, code: int, *words: str) -> str:
    """``r`` (a typer CliRunner result) failed with ``code`` and one stderr line holding
    each of ``words``; returns that line."""
    assert r.exit_code == code, (r.exit_code, r.output)
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]

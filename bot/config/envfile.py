"""`.env` files, read as the original paastis read them: with dotenv (python-dotenv here).

The process environment wins over the file. python-dotenv understands comments, `export`,
single and double quotes (with escapes in double quotes) and a ` # comment` after a value;
nothing is interpolated (`$HOME` stays `$HOME`, as the original's dotenv left it).
"""

from __future__ import annotations

import io

from dotenv.parser import parse_stream


def parse_env_file(text: str) -> tuple[dict[str, str], list[str]]:
    """The variables of a .env file, and one problem per line that is not `KEY=VALUE`."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            problems.append(f".env line {binding.original.line}: expected KEY=VALUE")
        elif binding.key is not None:
            values[binding.key] = binding.value or ""
    return values, problems

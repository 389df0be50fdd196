"""`.env` files, as the original paastis read them (dotenv): KEY=VALUE lines. Pure.

The process environment wins over the file, as with dotenv. Supported: comments, blank
lines, `export KEY=…`, single or double quotes (double quotes understand \\n), and a
trailing ` # comment` after an unquoted value.
"""

from __future__ import annotations

import re

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def parse_env_file(text: str) -> tuple[dict[str, str], list[str]]:
    """The variables of a .env file, and one problem per line that is not `KEY=VALUE`."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            problems.append(f".env line {number}: expected KEY=VALUE")
            continue
        key, raw = match.groups()
        values[key] = _value(raw)
    return values, problems


def _value(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        inner = raw[1:-1]
        return inner.replace("\\n", "\n").replace('\\"', '"') if raw[0] == '"' else inner
    return re.sub(r"\s+#.*$", "", raw)

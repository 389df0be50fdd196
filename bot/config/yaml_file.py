"""Reading paastis.yml safely: at most `MAX_BYTES` read (PAASTIS_CONFIG=/dev/zero is a
problem, not a MemoryError), PyYAML's safe loader, and a document of at most `MAX_NODES`
values once its aliases are expanded (an alias bomb — a billion laughs — is refused at
once instead of hanging check-config). Anchors and aliases within that stay allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1 << 20  # 1 MiB: a paastis.yml of 1,000 rules is about 100 KiB
MAX_NODES = 100_000


class YamlRefused(ValueError):
    """The file is not read: a sentence saying why and what to do."""


def read_config(path: Path) -> str:
    """The file's text, refused past MAX_BYTES; OSError and UnicodeDecodeError as they come."""
    with path.open("rb") as file:
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise YamlRefused(f"is larger than {MAX_BYTES // 1024} KiB: is it the right file?")
    return data.decode("utf-8")


def parse_yaml(text: str) -> Any:
    """The document in `text` (None when empty); yaml.YAMLError when it is not YAML,
    YamlRefused when it is too large once its aliases are expanded, or nested too deeply."""
    if len(text) > MAX_BYTES:
        raise YamlRefused(f"is larger than {MAX_BYTES // 1024} KiB")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, set()) > MAX_NODES:
            raise YamlRefused(
                f"holds more than {MAX_NODES:,} values once its aliases (*name) are expanded: "
                "an alias bomb? Write the values out"
            )
        return loader.construct_document(node)
    except RecursionError:
        raise YamlRefused("is nested too deeply") from None
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, sizes: dict[int, int], visiting: set[int]) -> int:
    """How many values the document holds once every alias is expanded (each node counted
    once per place it appears; shared nodes are sized once)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in visiting:  # a node that contains itself: infinite once expanded
        return MAX_NODES + 1
    visiting.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            size += _expanded_size(child, sizes, visiting)
            if size > MAX_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, sizes, visiting) + _expanded_size(v, sizes, visiting)
            if size > MAX_NODES:
                break
    visiting.discard(key)
    sizes[key] = size
    return size

"""Reading the project's YAML files strictly: a key given twice in one mapping is an error.

``yaml.safe_load`` keeps the last of two equal keys without a word, so ``resolution: 64``
followed by ``resolution: 128`` in one sweep block would silently run only 128 px. Every YAML
the package reads (sweep configs, ``configs/book.yaml``) goes through :func:`load_yaml`, which
raises :class:`DuplicateKeyError` naming the file, the key and both lines.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


class DuplicateKeyError(ValueError):
    """A YAML mapping names the same key twice; the message gives the file and both lines."""


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys in a mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _value in node.value:  # before merge keys (<<) are expanded: those may override
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            continue  # the base constructor reports unhashable keys itself
        line = key_node.start_mark.line + 1
        if key in seen:
            raise DuplicateKeyError(
                f"{loader.name}:{line}: key {key!r} appears twice in one mapping (first at line "
                f"{seen[key]}); YAML would silently keep only the last value: remove one"
            )
        seen[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def loads_yaml(text: str, name: str = "<string>") -> Any:
    """Parse YAML text like ``yaml.safe_load``, but a duplicate key raises DuplicateKeyError."""
    loader = _StrictLoader(text)
    loader.name = name
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_yaml(path: str | os.PathLike[str]) -> Any:
    """Read a YAML file strictly (:func:`loads_yaml`); errors name ``path``."""
    path = Path(path)
    return loads_yaml(path.read_text(encoding="utf-8"), str(path))

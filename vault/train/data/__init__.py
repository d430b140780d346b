"""The generators' word lists, layouts and templates, as YAML files in this folder (see README.md).

Sequences load as tuples: the tables are shared by every document, and a tuple cannot be changed by one.
"""

import functools
from pathlib import Path

import yaml

DIR = Path(__file__).parent


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


_Loader.add_constructor("tag:yaml.org,2002:seq", lambda loader, node: tuple(loader.construct_sequence(node, deep=True)))


def load_path(path: str | Path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)


@functools.cache
def load(name: str):
    """The YAML file `name` (a path below this folder, without ".yaml"), parsed once."""
    return load_path(DIR / f"{name}.yaml")

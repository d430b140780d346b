"""Versions of every component a run's decisions depend on, for its audit and its report.

Read from the installed distributions' metadata, so nothing heavy is imported to learn them. The run
records them (see `component_versions`); the report shows what the run recorded, never the versions
installed where the report happens to be rendered.
"""

from __future__ import annotations

import sys
from importlib import metadata

from vault import __version__

# (key in the audit, distribution name); the order is the report's.
DISTRIBUTIONS = (
    ("torch", "torch"),
    ("transformers", "transformers"),
    ("tokenizers", "tokenizers"),
    ("presidio-analyzer", "presidio-analyzer"),
    ("presidio-anonymizer", "presidio-anonymizer"),
    ("spacy", "spacy"),
    ("pyarrow", "pyarrow"),
)
# The keys the report lists, recorded or not.
COMPONENTS = ("vault", "python", *(key for key, _ in DISTRIBUTIONS), "spacy-model")


def component_versions(spacy_model: str | None = None) -> dict[str, str]:
    """{component: version} for the run's manifest. `spacy_model` is the pipeline the recognizers
    read with (vault.detect.Detector.nlp_model: a package name such as en_core_web_sm, or "blank")."""
    versions = {"vault": __version__, "python": sys.version.split()[0]}
    for key, dist in DISTRIBUTIONS:
        versions[key] = _installed(dist) or "not installed"
    if spacy_model:
        if spacy_model == "blank":
            versions["spacy-model"] = "blank English pipeline (no model)"
        else:
            version = _installed(spacy_model) or _installed(spacy_model.replace("_", "-"))
            versions["spacy-model"] = f"{spacy_model} {version or '(version unknown)'}"
    return versions


def _installed(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None

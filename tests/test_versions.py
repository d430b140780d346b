"""vault.versions: what a run records of its components, read from package metadata, never by importing them."""

import json
import platform
import subprocess
import sys
from importlib import metadata

from vault import __version__, versions
from vault.versions import COMPONENTS, DISTRIBUTIONS, component_versions


def test_the_installed_versions_in_the_reports_order():
    found = component_versions()
    assert list(found) == list(COMPONENTS[:-1])  # no spaCy pipeline named: no spacy-model entry
    assert found["vault"] == __version__ and found["python"] == platform.python_version()
    assert all(found[key] == metadata.version(dist) for key, dist in DISTRIBUTIONS)


def test_a_component_not_installed_says_so(monkeypatch):
    monkeypatch.setattr(versions, "DISTRIBUTIONS", (("torch", "vault-test-no-such-distribution"),))
    assert component_versions()["torch"] == "not installed"


def test_the_spacy_pipeline_is_named_with_its_version(monkeypatch):
    # spaCy's packages are named en_core_web_sm, their distributions (pip's names) en-core-web-sm
    def version(dist):
        if dist != "en-core-web-sm":
            raise metadata.PackageNotFoundError(dist)
        return "3.8.0"

    monkeypatch.setattr(versions.metadata, "version", version)
    assert component_versions("en_core_web_sm")["spacy-model"] == "en_core_web_sm 3.8.0"
    assert component_versions("xx_ent_wiki_sm")["spacy-model"] == "xx_ent_wiki_sm (version unknown)"
    assert component_versions("blank")["spacy-model"] == "blank English pipeline (no model)"
    assert list(component_versions("blank")) == list(COMPONENTS)


def test_reading_versions_imports_none_of_the_components():
    heavy = ["torch", "transformers", "tokenizers", "presidio_analyzer", "presidio_anonymizer", "spacy", "pyarrow"]
    code = ("import json, sys\nfrom vault.versions import component_versions\ncomponent_versions('en_core_web_sm')\n"
            f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout) == []

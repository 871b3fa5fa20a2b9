"""Seeded rows shaped like Anthropic's HH-RLHF (``{"chosen", "rejected"}`` transcripts of
"\\n\\nHuman:" and "\\n\\nAssistant:" turns that share everything but the last answer), and
the kinds of malformed rows real files carry. Used to write ``tests/data/hh_rlhf_sample``
and by ``tests/benchmarks/bench_imports.py``; written for this project, no real data.

    .venv/bin/python tests/hh_rlhf_shape.py   # rewrites tests/data/hh_rlhf_sample.jsonl(.gz)
"""

import gzip
import json
import random
from pathlib import Path

_VOCABULARY = (
    "the a of to and in that is for it you on with as this be are or can your have not "
    "would about if they more time people some which also their will what could should "
    "water coffee dog garden recipe money car school phone sleep doctor music paint bread "
    "house weather train city book friend exercise battery window winter summer price "
    "usually often maybe really probably important different simple careful healthy "
    "make take find help think know want need try keep start learn cook read call buy"
)
WORDS = _VOCABULARY.split()

# Lengths drawn to match HH-RLHF's test split: most dialogues have one to three turns,
# questions are a sentence or two, answers a few sentences (about 1 kB per transcript).
TURNS = (1, 1, 1, 2, 2, 2, 3, 3, 4, 5)


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + rng.choice(".?!" if low < 6 else "..!")


def _utterance(rng: random.Random, sentences: tuple[int, int], words=(5, 16)) -> str:
    return " ".join(_sentence(rng, *words) for _ in range(rng.randint(*sentences)))


def hh_row(rng: random.Random) -> dict[str, str]:
    """One valid row: a shared dialogue, then two different final answers."""
    dialogue = ""
    turns = rng.choice(TURNS)
    for turn in range(turns):
        dialogue += f"\n\nHuman: {_utterance(rng, (1, 2))}"
        if turn < turns - 1:
            dialogue += f"\n\nAssistant: {_utterance(rng, (2, 5))}"
    chosen, rejected = _utterance(rng, (2, 7)), _utterance(rng, (1, 6))
    return {
        "chosen": f"{dialogue}\n\nAssistant: {chosen}",
        "rejected": f"{dialogue}\n\nAssistant: {rejected}",
    }


def bad_rows(rng: random.Random) -> list[tuple[str, bytes]]:
    """(kind, raw line) of each kind of malformed row an import must report by line."""
    base = hh_row(rng)
    nested: object = "too deep"
    for _ in range(100):
        nested = [nested]
    return [
        ("empty final answer", {**base, "rejected": base["rejected"].rsplit(":", 1)[0] + ":"}),
        ("differs early", {**base, "rejected": "\n\nHuman: Other?" + base["rejected"]}),
        ("NUL character", {**base, "chosen": base["chosen"] + "\u0000"}),
        ("nested too deep", {**base, "chosen": nested}),
        ("field too long", {**base, "chosen": base["chosen"] + " word" * 25_000}),
        ("wrong type", {**base, "rejected": 42}),
        ("invalid UTF-8", json.dumps(base).encode().replace(b"Human", b"Hum\xffan", 1)),
    ]  # fmt: skip


def hh_lines(rows: int, bad_at: dict[int, int], seed: int) -> list[bytes]:
    """``rows`` JSONL lines; the line numbered n in ``bad_at`` (1-based) is bad row
    ``bad_at[n]`` of ``bad_rows``."""
    rng = random.Random(seed)
    bad = bad_rows(rng)
    lines = []
    for n in range(1, rows + 1):
        if n in bad_at:
            value = bad[bad_at[n]][1]
            lines.append(value if isinstance(value, bytes) else json.dumps(value).encode())
        else:
            lines.append(json.dumps(hh_row(rng)).encode())
    return [line + b"\n" for line in lines]


# The test fixture: 40 rows, the 7 bad kinds at these lines.
SAMPLE_BAD_AT = {4: 0, 9: 1, 15: 2, 21: 3, 27: 4, 33: 5, 38: 6}
SAMPLE_ROWS = 40
SAMPLE_SEED = 10


def main() -> None:
    data = Path(__file__).resolve().parent / "data"
    content = b"".join(hh_lines(SAMPLE_ROWS, SAMPLE_BAD_AT, SAMPLE_SEED))
    (data / "hh_rlhf_sample.jsonl").write_bytes(content)
    # mtime=0: the same bytes on every run, so the file only changes when its rows do.
    (data / "hh_rlhf_sample.jsonl.gz").write_bytes(gzip.compress(content, mtime=0))


if __name__ == "__main__":
    main()

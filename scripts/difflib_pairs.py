#!/usr/bin/env python3
"""String pairs for checking and timing the Rust port of difflib's SequenceMatcher.ratio().

generate: writes N pairs as JSONL, one object per line, deterministic for a given --seed:
    {"a": ..., "b": ..., "ratio_autojunk": <float>, "ratio_no_autojunk": <float>}
  The two ratios are CPython's SequenceMatcher(None, a, b, autojunk=X).ratio(), written with
  repr(float), which round-trips; --no-expected leaves them out (the benchmark does not need
  them). Readers that only want {"a", "b"} (e.g. `srl similarity --pairs`) ignore the rest.
  The ratios come last in each line on purpose: the key text `autojunk":` cannot occur inside a
  JSON string (its quote would be escaped), so a checker can cut the float text out of the line
  and parse it with a correctly rounded parser (see examples/difflib_parity.rs).

time: times CPython's ratio loop over a pairs file (only the loop, with time.perf_counter) and
  prints one JSON line per repeat set: {"impl", "autojunk", "pairs", "seconds": [...],
  "checksum"}. The checksum is the sum of the ratios in file order, comparable with the Rust
  benchmark's.

Pair families (weights in FAMILIES): random ASCII, random Unicode (BMP, combining marks,
astral-plane emoji / math letters / CJK Ext. B) from small or large per-string alphabets,
mutations of both, repetitive code-like text of 150-2000 code points (autojunk territory, with
b's length often right at the 200 boundary), and real agent actions / tool-call arguments taken
from the fixture files under /work/shared/fixtures/real, mutated or paired with their neighbours.
Every string is at most 2000 code points.

Usage:
    python3 scripts/difflib_pairs.py generate --n 100000 --seed 20240601 --out /tmp/pairs.jsonl
    python3 scripts/difflib_pairs.py time --pairs /tmp/pairs.jsonl --autojunk false --repeat 3
"""

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from difflib import SequenceMatcher

MAX_LEN = 2000
FIXTURES = "/work/shared/fixtures/real"
# Fields of the fixture files that hold actions, tool-call arguments and model text.
REAL_KEYS = {"action", "arguments", "command", "thought", "content", "text", "response", "patch",
             "old_str", "new_str", "file_text", "submission", "code"}

ASCII = [chr(c) for c in range(32, 127)] + ["\n", "\t"]
# (first, last) code point ranges; surrogates are excluded because a Rust &str cannot hold them.
UNICODE_RANGES = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x300, 0x36F),  # combining
    (0x4E00, 0x9FFF), (0x3040, 0x30FF), (0xAC00, 0xD7A3), (0x200B, 0x200D), (0xFE00, 0xFE0F),
    (0x1F300, 0x1FAFF), (0x1D400, 0x1D7FF), (0x20000, 0x2A6DF), (0x10000, 0x1007F),  # astral
]
CODE_LINES = [
    "def {n}(self, {m}):\n", "    return {n}({m})\n", "    self.assertEqual({n}, {m})\n", "import {n}\n",
    "from {n} import {m}\n", "    if {n} is None:\n", "        {n} = {m}\n", "for {n} in range({m}):\n",
    "    # {n}\n", "\n", "class {n}({m}):\n", "        raise ValueError('{n}')\n", "    {n}.{m}()\n",
    "<parameter=path>/testbed/{n}/{m}.py</parameter>\n", "grep -rn '{n}' /testbed/{m}\n",
]
NAMES = ["x", "y", "value", "default", "self", "data", "result", "foo", "bar", "np", "os", "path", "i", "n"]


def pick_len(rng):
    """Lengths over 0-2000, skewed short the way actions are, but with a heavy long tail."""
    r = rng.random()
    if r < 0.05:
        return rng.randint(0, 3)
    if r < 0.5:
        return rng.randint(0, 200)
    if r < 0.8:
        return rng.randint(150, 800)
    return rng.randint(500, MAX_LEN)


def unicode_alphabet(rng):
    size = rng.choice([2, 3, 5, 10, 30, 100, 400])
    ranges = rng.sample(UNICODE_RANGES, rng.randint(1, 4))
    out = []
    for _ in range(size):
        lo, hi = rng.choice(ranges)
        out.append(chr(rng.randint(lo, hi)))
    return out


def ascii_alphabet(rng):
    if rng.random() < 0.5:
        return ASCII
    return rng.sample(ASCII, rng.choice([2, 4, 8, 16, 40]))


def random_string(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def mutate(rng, s, alphabet):
    """A few span edits: delete, insert, replace, duplicate, move; so ratios spread over 0..1."""
    s = list(s)
    for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 10, 30])):
        n = len(s)
        i = rng.randint(0, n)
        span = rng.choice([1, 1, 2, 3, 5, 10, 40, 200])
        op = rng.randrange(5)
        if op == 0:
            del s[i:i + span]
        elif op == 1:
            s[i:i] = random_string(rng, alphabet, span)
        elif op == 2:
            s[i:i + span] = random_string(rng, alphabet, span)
        elif op == 3:
            s[i:i] = s[i:i + span]
        else:
            piece = s[i:i + span]
            del s[i:i + span]
            j = rng.randint(0, len(s))
            s[j:j] = piece
    return "".join(s[:MAX_LEN])


def code_like(rng, n):
    lines = rng.sample(CODE_LINES, rng.randint(1, 6))
    out = []
    total = 0
    while total < n:
        line = rng.choice(lines).format(n=rng.choice(NAMES[:4]), m=rng.choice(NAMES))
        out.append(line)
        total += len(line)
    return "".join(out)[:n]


def fam_ascii(rng, _real):
    alphabet = ascii_alphabet(rng)
    a = random_string(rng, alphabet, pick_len(rng))
    b = mutate(rng, a, alphabet) if rng.random() < 0.7 else random_string(rng, alphabet, pick_len(rng))
    return a, b


def fam_unicode(rng, _real):
    alphabet = unicode_alphabet(rng)
    a = random_string(rng, alphabet, pick_len(rng))
    b = mutate(rng, a, alphabet) if rng.random() < 0.7 else random_string(rng, alphabet, pick_len(rng))
    return a, b


def fam_code(rng, _real):
    a = code_like(rng, rng.randint(150, MAX_LEN))
    b = mutate(rng, a, ASCII) if rng.random() < 0.6 else code_like(rng, rng.randint(150, MAX_LEN))
    if rng.random() < 0.3:
        b = b[:rng.randint(195, 205)]  # len(b) around autojunk's 200 threshold
    return (a, b) if rng.random() < 0.5 else (b, a)


def fam_real(rng, real):
    i = rng.randrange(len(real))
    a = real[i]
    r = rng.random()
    if r < 0.15:  # several actions in a row: real text over 200 code points
        a = "\n".join(real[i:i + rng.randint(2, 8)])[:MAX_LEN]
    if r < 0.55:
        b = mutate(rng, a, ASCII)
    elif r < 0.8:
        b = real[(i + rng.randint(1, 3)) % len(real)]  # a neighbouring action of the same run
    elif r < 0.9:
        b = real[rng.randrange(len(real))]
    else:
        b = a
    return (a, b) if rng.random() < 0.5 else (b, a)


FAMILIES = [(fam_ascii, 0.25), (fam_unicode, 0.25), (fam_code, 0.2), (fam_real, 0.3)]


def real_strings():
    """Action-like strings from the fixture files, deduplicated, in a stable order."""
    found = []

    def walk(obj, key):
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, k)
        elif isinstance(obj, list):
            for v in obj:
                walk(v, key)
        elif isinstance(obj, str) and key in REAL_KEYS and 0 < len(obj) <= MAX_LEN:
            found.append(obj)

    for directory, subdirs, files in sorted(os.walk(FIXTURES)):
        subdirs.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            if name.endswith(".jsonl"):
                with open(path, encoding="utf-8") as f:
                    docs = [json.loads(line) for line in f if line.strip()]
            elif name.endswith((".json", ".traj")):
                with open(path, encoding="utf-8") as f:
                    docs = [json.load(f)]
            else:
                continue
            for doc in docs:
                walk(doc, None)
    seen = set()
    out = []
    for s in found:
        if s not in seen and not any(0xD800 <= ord(c) <= 0xDFFF for c in s):
            seen.add(s)
            out.append(s)
    return out


def make_pairs(n, seed):
    rng = random.Random(seed)
    real = real_strings()
    if not real:
        sys.exit(f"no strings found under {FIXTURES}")
    funcs = [f for f, _ in FAMILIES]
    weights = [w for _, w in FAMILIES]
    return [rng.choices(funcs, weights)[0](rng, real) for _ in range(n)]


def expected(pair):
    a, b = pair
    return (SequenceMatcher(None, a, b, autojunk=True).ratio(), SequenceMatcher(None, a, b, autojunk=False).ratio())


def cmd_generate(args):
    pairs = make_pairs(args.n, args.seed)
    with open(args.out, "w", encoding="utf-8") as out:
        if args.no_expected:
            for a, b in pairs:
                out.write(json.dumps({"a": a, "b": b}, ensure_ascii=False) + "\n")
            return
        with multiprocessing.Pool(args.jobs) as pool:
            for (a, b), (aj, noaj) in zip(pairs, pool.imap(expected, pairs, chunksize=64)):
                line = {"a": a, "b": b, "ratio_autojunk": aj, "ratio_no_autojunk": noaj}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"wrote {len(pairs)} pairs to {args.out}", file=sys.stderr)


def cmd_time(args):
    with open(args.pairs, encoding="utf-8") as f:
        pairs = [(d["a"], d["b"]) for d in map(json.loads, f)]
    autojunk = args.autojunk == "true"
    seconds = []
    checksum = 0.0
    for _ in range(args.repeat):
        checksum = 0.0
        start = time.perf_counter()
        for a, b in pairs:
            checksum += SequenceMatcher(None, a, b, autojunk=autojunk).ratio()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"impl": "cpython", "autojunk": autojunk, "pairs": len(pairs), "seconds": seconds,
                      "checksum": checksum}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--n", type=int, default=100_000)
    gen.add_argument("--seed", type=int, default=20240601)
    gen.add_argument("--out", required=True)
    gen.add_argument("--no-expected", action="store_true")
    gen.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    tim = sub.add_parser("time")
    tim.add_argument("--pairs", required=True)
    tim.add_argument("--autojunk", choices=["true", "false"], required=True)
    tim.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cmd_generate(args) if args.cmd == "generate" else cmd_time(args)


if __name__ == "__main__":
    main()

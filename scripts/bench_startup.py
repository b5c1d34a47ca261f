"""Measure the app's start-up against a bare Textual app, and its preview refresh.

    .venv/bin/python scripts/bench_startup.py [--runs 7] [--requests 5000]

1. Time to first screen, each run in a fresh interpreter, for a bare Textual
   app showing one Static and for Routebook on the bundled example. The time
   runs from just before the subprocess starts to the app's `Ready` event
   (first screen composed and drawn, headless, 160x48). Routebook's run also
   checks that the policy name is on screen and that LiteLLM was not imported.
2. Preview refresh: Routebook on a sample of N requests (the bundled sample
   repeated with new ids). Two kinds of edit are made through the editor: one
   that re-routes a rule, so the requests it routes are priced, graded and
   summed again, and one that changes a comment, so the last preview is
   reused. For each the script takes the time until the frame showing the new
   preview has been drawn, and the part of it spent computing the preview.
   Before the timed edits, one untimed edit makes the text differ from the
   saved file, as it does while someone types. That keeps the redraw of the
   title, which only the first edit after a save needs, out of the timings.

Prints a Markdown section to paste into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "support.yaml"
SAMPLE = ROOT / "fixtures" / "support.jsonl"

BARE_APP = """
import json, sys, time
start = float(sys.argv[1])
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("hello")

    def on_ready(self):
        self.elapsed = time.time() - start
        self.exit()

app = Bare()
app.run(headless=True, size=(160, 48))
print(json.dumps({"seconds": app.elapsed}))
"""

ROUTEBOOK_APP = """
import json, sys, time
start = float(sys.argv[1])
from tui.app.main import RoutebookApp

class Probe(RoutebookApp):
    def on_ready(self):
        self.elapsed = time.time() - start
        self.name_shown = "support-assistant" in self.sub_title
        self.litellm_loaded = "litellm" in sys.modules
        self.exit()

app = Probe(sys.argv[2], sys.argv[3])
app.run(headless=True, size=(160, 48))
print(json.dumps({
    "seconds": app.elapsed,
    "name_shown": app.name_shown,
    "litellm_loaded": app.litellm_loaded,
}))
"""


def run_child(code: str, *arguments: str, env: dict) -> dict:
    start = time.time()
    completed = subprocess.run(
        [sys.executable, "-c", code, str(start), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure_startup(runs: int, work: Path) -> tuple[list[float], list[float]]:
    env = {**os.environ, "ROUTEBOOK_STATE_DIR": str(work / "state")}
    env["PYTHONPATH"] = str(ROOT)
    policy, sample = work / "support.yaml", work / "support.jsonl"
    shutil.copyfile(POLICY, policy)
    shutil.copyfile(SAMPLE, sample)

    bare, routebook = [], []
    for _ in range(runs):
        bare.append(run_child(BARE_APP, env=env)["seconds"])
        result = run_child(ROUTEBOOK_APP, str(policy), str(sample), env=env)
        if not result["name_shown"]:
            raise SystemExit("the first screen did not show the policy name")
        if result["litellm_loaded"]:
            raise SystemExit("LiteLLM was imported before the first screen")
        routebook.append(result["seconds"])
    return bare, routebook


def write_big_sample(path: Path, requests: int) -> None:
    lines = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line]
    with path.open("w", encoding="utf-8") as handle:
        for index in range(requests):
            record = json.loads(lines[index % len(lines)])
            record["id"] = f"{record['id']}-{index // len(lines)}"
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def watch_paints(screen) -> list[float]:
    """Record when each frame of `screen` has been drawn.

    Textual has no public event for a finished frame, so this wraps the
    screen's private method that draws one. Waiting for the app to go idle
    instead would add the idle check's own 10-20 ms to every figure.
    """
    paints: list[float] = []
    draw = screen._compositor_refresh

    def record() -> None:
        draw()
        paints.append(time.perf_counter())

    screen._compositor_refresh = record
    return paints


async def drawn(pilot, paints: list[float]) -> float:
    """Wait until everything pending is drawn; return when the last frame was."""
    count = len(paints)
    await pilot.pause()
    if len(paints) == count:
        return time.perf_counter()  # nothing was left to draw
    return paints[-1]


# The timed edits, each on one line of the bundled policy. They change the
# route of the first rule that routes to the fast model, the prompt limit of
# the first rule that has one, and a comment line the benchmark adds on top.
COMMENT = "# edited by the benchmark"
EDITS = {
    "route": ("    route: fast", ("    route: strong", "    route: fast")),
    "condition": (
        "        - {prompt_tokens: {lt: 400}}",
        (
            "        - {prompt_tokens: {lt: 300}}",
            "        - {prompt_tokens: {lt: 400}}",
        ),
    ),
    "comment": (COMMENT, (f"{COMMENT}, once more", COMMENT)),
}


async def measure_refresh(work: Path, requests: int, edits: int) -> dict:
    from textual.widgets import TextArea

    from tui.app.main import RoutebookApp

    os.environ["ROUTEBOOK_STATE_DIR"] = str(work / "state")
    policy, sample = work / "big.yaml", work / "big.jsonl"
    shutil.copyfile(POLICY, policy)
    write_big_sample(sample, requests)

    app = RoutebookApp(policy, sample, cursor_blink=False)
    times = {kind: ([], []) for kind in EDITS}
    async with app.run_test(size=(160, 48)) as pilot:
        while app.preview is None:
            await pilot.pause(0.05)
        paints = watch_paints(app.screen)
        editor = app.screen.query_one("#editor", TextArea)
        editor.insert(COMMENT + "\n", (0, 0))
        while app.preview_revision != app.revision or app.checking:
            await pilot.pause(0.01)
        await pilot.pause(0.2)

        lines = editor.text.split("\n")
        rows = {kind: lines.index(line) for kind, (line, _) in EDITS.items()}
        for index in range(edits):
            for kind, (_, texts) in EDITS.items():
                row = rows[kind]
                before = app.preview
                started = time.perf_counter()
                end = (row, len(editor.document.get_line(row)))
                editor.replace(texts[index % 2], (row, 0), end)
                while app.preview is before or app.preview_revision != app.revision:
                    await asyncio.sleep(0.001)
                shown_at = await drawn(pilot, paints)
                totals, computes = times[kind]
                totals.append(shown_at - started)
                computes.append(app.preview_seconds)
    return times


def milliseconds(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=6)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        bare, routebook = measure_startup(args.runs, work)
        sys.path.insert(0, str(ROOT))
        refresh = asyncio.run(measure_refresh(work, args.requests, args.edits))

    ratio = statistics.median(routebook) / statistics.median(bare)
    print("## Start-up\n")
    print(
        f"`scripts/bench_startup.py --runs {args.runs} --requests {args.requests}`"
        f" on {platform.machine()}, {os.cpu_count()} cores, Python"
        f" {platform.python_version()}; median of {args.runs} runs (min).\n"
    )
    print("| measurement | time |")
    print("| --- | --- |")
    print(f"| bare Textual app, first screen | {milliseconds(bare)} |")
    print(f"| Routebook on the example, first screen | {milliseconds(routebook)} |")
    print(f"| ratio of medians | {ratio:.2f}x |")
    labels = {
        "route": "a rule's route",
        "condition": "a rule's condition",
        "comment": "a comment (last preview reused)",
    }
    print(
        f"\nPreview refresh, {args.requests} requests: from the edit to the frame"
        " that shows its preview, and the part spent computing the preview"
        f" (median of {args.edits} edits each, min).\n"
    )
    print("| edit | on screen | computing the preview |")
    print("| --- | --- | --- |")
    for kind, (totals, computes) in refresh.items():
        print(f"| {labels[kind]} | {milliseconds(totals)} | {milliseconds(computes)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

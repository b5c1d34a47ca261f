"""Generate docs/screenshot.svg: the app on the bundled example, as a user sees it.

    .venv/bin/python scripts/screenshot.py                      # docs/screenshot.svg
    .venv/bin/python scripts/screenshot.py --screen preview --size 80x24 --out x.svg

The app runs headless (`App.run_test`) on temporary copies of
policies/support.yaml and fixtures/support.jsonl, with drafts in a temporary
state folder, so the repository and the user's state stay untouched. The
cursor blink is off and the script waits until every background task has
finished, so the same inputs give the same picture.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCREEN_KEYS = {
    "policy": "f2",
    "preview": "f3",
    "samples": "f4",
    "compare": "f5",
    "history": "f6",
}


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


async def settle(pilot, timeout: float = 60.0) -> None:
    """Wait for the first preview, then until no worker runs and the screen is drawn."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while app.preview is None and app.sample_path is not None:
        if time.monotonic() > deadline:
            raise RuntimeError("the preview did not arrive in time")
        await pilot.pause(0.05)
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
    # The footer recomposes its keys a moment after focus settles.
    await pilot.pause(0.3)
    await pilot.wait_for_scheduled_animations()


async def capture(screen: str, size: tuple[int, int], out: Path) -> None:
    from tui.app.main import RoutebookApp

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        os.environ["ROUTEBOOK_STATE_DIR"] = str(work / "state")
        policy = work / "support.yaml"
        sample = work / "support.jsonl"
        shutil.copyfile(ROOT / "policies" / "support.yaml", policy)
        shutil.copyfile(ROOT / "fixtures" / "support.jsonl", sample)

        app = RoutebookApp(policy, sample, cursor_blink=False)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await pilot.press(SCREEN_KEYS[screen])
            await settle(pilot)
            app.save_screenshot(filename=out.name, path=str(out.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screen", choices=sorted(SCREEN_KEYS), default="policy")
    parser.add_argument("--size", type=parse_size, default=(160, 48), help="WxH")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.svg")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(capture(args.screen, args.size, args.out.resolve()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

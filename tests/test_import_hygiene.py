"""The core never loads Textual or Rich, and routing never loads LiteLLM."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import tui.core

ROOT = Path(__file__).resolve().parents[1]


def loaded_modules(code: str) -> set[str]:
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {name.split(".")[0] for name in json.loads(output.splitlines()[-1])}


def core_module_names() -> list[str]:
    return [f"tui.core.{info.name}" for info in pkgutil.iter_modules(tui.core.__path__)]


def test_core_modules_exist():
    names = core_module_names()
    assert "tui.core.policy" in names
    assert "tui.core.preview" in names


def test_core_imports_no_textual_or_rich():
    imports = "\n".join(f"import {name}" for name in core_module_names())
    modules = loaded_modules(imports)
    assert "textual" not in modules
    assert "rich" not in modules


def test_routing_path_imports_no_ui_or_litellm():
    code = (
        "from tui.runtime import load_router\n"
        f"router = load_router({str(ROOT / 'policies' / 'support.yaml')!r})\n"
        "router.route({'prompt': 'Where is my order #12345?', 'metadata': {}})\n"
    )
    modules = loaded_modules(code)
    assert "textual" not in modules
    assert "rich" not in modules
    assert "litellm" not in modules

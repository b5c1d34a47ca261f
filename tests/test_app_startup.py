"""App start-up: the first screen shows the policy name without loading LiteLLM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tui.app.main import EXIT_USAGE, policy_name_in, run_app

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
from tui.app.main import RoutebookApp

class Probe(RoutebookApp):
    def on_ready(self):
        self.seen = {
            "sub_title": self.sub_title,
            "litellm": "litellm" in sys.modules,
            "ruamel": "ruamel.yaml" in sys.modules,
        }
        self.exit()

app = Probe(sys.argv[1], sys.argv[2])
app.run(headless=True, size=(100, 30))
print(json.dumps(app.seen))
"""


def test_first_screen_skips_litellm(tmp_path):
    env = {**os.environ, "ROUTEBOOK_STATE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    policy = ROOT / "policies" / "support.yaml"
    sample = ROOT / "fixtures" / "support.jsonl"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(policy), str(sample)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "support-assistant" in seen["sub_title"]
    assert "support.yaml" in seen["sub_title"]
    assert not seen["litellm"]
    assert not seen["ruamel"], "the YAML parser loads in a worker after the first paint"


def test_policy_name_read_without_yaml():
    assert policy_name_in("schema: x\nname: billing  # note\n") == "billing"
    assert policy_name_in('name: "quoted name"\n') == "quoted name"
    assert policy_name_in("  name: nested\n") is None
    assert policy_name_in("rules: []\n") is None


def test_policy_folder_is_usage_error(tmp_path, capsys):
    assert run_app(tmp_path, None) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "is a folder" in error
    assert str(tmp_path) in error


def test_non_utf8_policy_is_usage_error(tmp_path, capsys):
    policy = tmp_path / "latin1.yaml"
    policy.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert run_app(policy, None) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "not UTF-8" in error
    assert "latin1.yaml" in error

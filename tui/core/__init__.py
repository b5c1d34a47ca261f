"""The headless core: policy, routing, samples, preview, checks.

Nothing under this package imports Textual or Rich, and the routing path
(policy loading and evaluation) does not import LiteLLM either, so a service
can load a policy cheaply. `tests/test_import_hygiene.py` enforces both.
"""

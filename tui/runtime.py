"""The service-facing API: load a policy file and route requests with it.

    from tui.runtime import load_router

    router = load_router("policies/support.yaml")
    decision = router.route({"prompt": "...", "metadata": {"tenant_tier": "smb"}})
    decision.alias, decision.model, decision.rule, decision.explanation

Importing this module loads no Textual, Rich or LiteLLM.
"""

from .core.problems import InputError
from .core.router import Decision, Router, load_router

__all__ = ["Decision", "InputError", "Router", "load_router"]

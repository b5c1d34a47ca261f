"""Command palette entries for every Routebook action (ctrl+p)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class RoutebookCommands(Provider):
    """Offer the app's actions and those of the screen the palette opened on."""

    def _entries(self):
        """Yield (title, help, callback) for the app's and the screen's actions."""
        for title, help_text, action in getattr(self.app, "PALETTE", []):
            yield title, help_text, partial(self.app.run_action, action)
        screen = self.screen
        for title, help_text, action in getattr(screen, "PALETTE", []):
            yield title, help_text, partial(self.app.run_action, action, screen)

    async def discover(self) -> Hits:
        for title, help_text, callback in self._entries():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)

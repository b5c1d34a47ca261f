"""The base of every Routebook screen: `sync()` and palette entries."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen


class RoutebookScreen(Screen):
    """A screen that draws from the app's state.

    The app calls `sync()` on the current screen whenever its state changes,
    and a screen syncs itself when it becomes current again.
    """

    # Palette entries for this screen's actions: (title, help, action).
    PALETTE: list[tuple[str, str, str]] = []

    @property
    def state(self) -> Any:
        """The RoutebookApp, typed loosely so screens avoid importing it."""
        return self.app

    _mounted_once = False

    def on_mount(self) -> None:
        self._mounted_once = True
        self.sync()

    def on_screen_resume(self) -> None:
        if self._mounted_once and self.app.is_running:
            self.sync()

    def sync(self) -> None:
        """Redraw from the app state; cheap when nothing changed.

        Called only after the screen's widgets are mounted.
        """

"""The Routebook terminal app (Textual). `main.run_app` starts it."""

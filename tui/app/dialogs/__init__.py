"""Modal dialogs: choices the user must make before the app goes on."""

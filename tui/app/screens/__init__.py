"""The app's screens, one module each; the app builds each on first use."""

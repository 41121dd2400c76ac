"""The duty console's Textual UI (see screens/app.py for the entry point)."""

"""Widgets shared by the screens: the windowed item list, the header, the alert banner."""

"""dutyroom core: settings, storage, rules and actions.  No Textual imports here."""

__version__ = "0.1.0"

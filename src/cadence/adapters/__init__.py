"""The adapters that ship with cadence, each a plugin registered like a third party's."""

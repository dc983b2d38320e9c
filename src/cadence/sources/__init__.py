"""What comes in: the importers that ship with cadence (each a plugin registered
like a third party's), the sources ``cadence sync`` keeps in step, and the
sync that applies them to a store."""

"""The pure core: contacts, cadences, occasions and touchpoints planned into an agenda.

Everything here works on values alone: no store, network, file or clock. Its
names are public through ``cadence``; the module paths are not.
"""

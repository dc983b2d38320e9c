"""A cadence plugin that brings public holidays in as occasions for your contacts.

It registers the occasion source ``holidays``. Name it in a ``[[sources]]``
table of ``cadence.toml`` with a country, and the contacts (or tags) whose
holidays those are; ``cadence sync`` and ``cadence run`` then keep one
occasion per holiday and contact or tag in the store, for the days ahead:

.. code-block:: toml

    [[sources]]
    source = "holidays"
    name = "us-holidays"
    country = "US"
    tags = ["us"]
    lead = "3d"
    only = ["Thanksgiving Day", "Christmas Day"]

The dates come from the `holidays <https://pypi.org/project/holidays/>`_
package, imported only when a sync uses the source. ``HolidaySource`` in
``cadence_holidays.source`` documents every setting.
"""

from __future__ import annotations

import cadence
from cadence.typing import Register

__all__ = ["SOURCE", "cadence_register_sources"]

#: The name the source is registered under, as ``source = "holidays"`` names it.
SOURCE = "holidays"


@cadence.hookimpl
def cadence_register_sources(register: Register) -> None:
    """Register the ``holidays`` source, lazily: the holidays package is imported on first use."""
    register(SOURCE, cadence.lazy("cadence_holidays.source:HolidaySource"))

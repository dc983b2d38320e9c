"""A cadence plugin that sends reminders through Apprise, to chat, push, SMS and more.

It registers the adapter ``apprise``. A route names its services by Apprise
URL (``urls``, or ``urls_env`` naming an environment variable that holds
them, since such URLs often carry a token) or by Apprise configuration files
(``config``, narrowed by ``tag``). With ``digest`` (the default) each batch
becomes one notification listing its reminders; without, each reminder gets
its own. ``title_prefix`` goes before every title and ``timeout`` bounds the
wait for each service. The adapter lives in ``cadence_apprise.adapter`` and
is imported, with Apprise, only when a route uses it.
"""

from __future__ import annotations

import cadence
from cadence.typing import Register

__all__ = ["ADAPTER", "cadence_register_adapters"]

#: The adapter's name, as a route's ``adapter`` gives it.
ADAPTER = "apprise"


@cadence.hookimpl
def cadence_register_adapters(register: Register) -> None:
    """Register the apprise adapter, imported when a route first uses it."""
    register(ADAPTER, cadence.lazy("cadence_apprise.adapter:apprise_adapter"))

"""Who may read the event feed and the webhooks, and who may manage webhooks.

The feed is the whole trail's changes (every domain's before and after, API keys and webhook
subscriptions among them), so it is read as the trail is: by compliance, and by administrators,
who also decide what leaves the service through webhooks. A system that needs events (a trading
system following its trades) gets a webhook subscription for the types it needs from an admin.
"""

from typing import Annotated

from fastapi import Depends

from app.core.auth import Actor, Role, require_roles

EventsRead = Annotated[Actor, Depends(require_roles(Role.COMPLIANCE, Role.ADMIN))]
WebhooksRead = Annotated[Actor, Depends(require_roles(Role.COMPLIANCE, Role.ADMIN))]
WebhooksWrite = Annotated[Actor, Depends(require_roles(Role.ADMIN))]

"""An Alertmanager configuration routing the burn alerts: pages to one receiver, tickets to
another, and `modelmeter watch`'s findings by the same ``severity`` label.

It is an example to adapt (the receivers are webhooks on 127.0.0.1 to replace with the team's
pager and ticket queue), but a working one: ``amtool check-config`` accepts it and the tests run
it in a real Alertmanager. A page silences the ticket of the same objective (``inhibit_rules``):
one burn, one notification.
"""

from __future__ import annotations

from typing import Any

from modelmeter.monitor.rules import ALERT

__all__ = ["PAGE_URL", "TICKET_URL", "alertmanager_config"]

PAGE_URL = "http://127.0.0.1:5001/page"
TICKET_URL = "http://127.0.0.1:5001/ticket"


def alertmanager_config(page_url: str = PAGE_URL, ticket_url: str = TICKET_URL) -> dict[str, Any]:
    def receiver(name: str, url: str) -> dict[str, Any]:
        return {"name": name, "webhook_configs": [{"url": url, "send_resolved": True}]}

    return {
        "route": {
            "receiver": "modelmeter-ticket",
            "group_by": ["alertname", "slo", "study"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": [
                {
                    "matchers": ['severity="page"'],
                    "receiver": "modelmeter-page",
                    "group_wait": "10s",
                    "repeat_interval": "1h",
                },
                {"matchers": ['severity="ticket"'], "receiver": "modelmeter-ticket"},
                {
                    "matchers": ['severity="info"'],
                    "receiver": "modelmeter-ticket",
                    "repeat_interval": "7d",
                },
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": [f'alertname="{ALERT}"', 'severity="page"'],
                "target_matchers": [f'alertname="{ALERT}"', 'severity="ticket"'],
                "equal": ["slo"],
            }
        ],
        "receivers": [
            receiver("modelmeter-page", page_url),
            receiver("modelmeter-ticket", ticket_url),
        ],
    }

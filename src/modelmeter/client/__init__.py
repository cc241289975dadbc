"""The load generator's HTTP/1.1 client: httptools on an asyncio Protocol, keep-alive pool, and
an incremental parser of server-sent events.

Built for the hot path of load generation, not as a general-purpose client: requests are
serialised once (`PreparedRequest`) and replayed, each answer carries ``monotonic_ns``
timestamps (sent, first byte, done), and a streaming body can be handed to a listener piece by
piece with the receive time of each read. Works on asyncio and uvloop; never sets the loop.
"""

from modelmeter.client._client import HttpClient
from modelmeter.client._connection import DEFAULT_MAX_BODY_BYTES
from modelmeter.client._endpoint import Endpoint
from modelmeter.client._request import PreparedRequest, RequestTemplate
from modelmeter.client._response import BodyListener, HeadListener, ReadControl, Response
from modelmeter.client.sse import SseEvent, SseParser

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "BodyListener",
    "Endpoint",
    "HeadListener",
    "HttpClient",
    "PreparedRequest",
    "ReadControl",
    "RequestTemplate",
    "Response",
    "SseEvent",
    "SseParser",
]

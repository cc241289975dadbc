"""The load generator's HTTP/1.1 client: httptools on an asyncio Protocol, keep-alive pool.

Built for the hot path of load generation, not as a general-purpose client: requests are
serialised once (`PreparedRequest`) and replayed, each answer carries ``monotonic_ns``
timestamps (sent, first byte, done), and a streaming body can be handed to a listener piece by
piece with the receive time of each read. Works on asyncio and uvloop; never sets the loop.
"""

from modelmeter.load.http._client import HttpClient
from modelmeter.load.http._endpoint import Endpoint
from modelmeter.load.http._request import PreparedRequest
from modelmeter.load.http._response import BodyListener, Response

__all__ = ["BodyListener", "Endpoint", "HttpClient", "PreparedRequest", "Response"]

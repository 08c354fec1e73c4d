"""Form-encoded (AWS query protocol) request bodies, encoded once instead of twice.

SNS speaks the query protocol: botocore serializes a PublishBatch into a dict of form
fields (about 140 of them for 10 entries with Pylon's attributes) and leaves the request
body as that dict. The SigV4 signer then reads the body to hash it, which URL-encodes
the dict, and sending the request encodes it all over again. The encoding is the single
largest part of building a PublishBatch: about 0.3 ms of CPU each time, on the machine
of bench/RESULTS.md, for a call that costs about 2 ms in all.

`encode_once` runs before the signer and replaces the dict with its encoding; the
signer and the sender then both use that text. `form_encode` writes exactly what
botocore's request preparer writes (`urlencode` of the fields' UTF-8 bytes), in about a
third of the time: most fields of a PublishBatch are the same from call to call (the
field names, "String", Pylon's attribute names and values), so their encodings are
kept rather than made again.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, AnyStr
from urllib.parse import quote_plus

from botocore.awsrequest import AWSRequest
from botocore.session import Session

# The services Pylon calls whose requests are form-encoded (SQS moved to JSON).
FORM_ENCODED_SERVICES = ("sns",)
# Texts shorter than this may repeat (names, types, attribute values) and their
# encodings are kept; longer ones are message bodies, encoded each time.
_REPEATING_BELOW = 128


def encode_once(request: AWSRequest, **_: Any) -> None:
    """Replace a form-field dict body with its URL encoding (anything else is left as is).

    Idempotent: a retried call builds its request again from the serialized fields, and
    that request is encoded again here, once. Fields that are not all text or bytes (no
    Pylon request has any) are left to botocore's own encoder.
    """
    fields = request.data
    if not isinstance(fields, dict):
        return
    try:
        request.data = form_encode(fields)
    except TypeError:  # a number, say: botocore's encoder writes it as urlencode does
        request.data = request.prepare().body


def form_encode(fields: Mapping[AnyStr, AnyStr]) -> str:
    """`name=value&...` exactly as botocore's preparer writes `fields` of text or bytes (a
    property test compares the two): UTF-8, `quote_plus` escapes, in the dict's order.

    Raises TypeError for any other value."""
    return "&".join([f"{_escaped(name)}={_escaped(value)}" for name, value in fields.items()])


def _escaped(text: str | bytes) -> str:
    return _escaped_repeating(text) if len(text) < _REPEATING_BELOW else quote_plus(text)


@functools.lru_cache(maxsize=4096)  # names of up to 10 entries x 10 attributes, and values
def _escaped_repeating(text: str | bytes) -> str:
    return quote_plus(text)


def register(session: Session) -> None:
    """Have every client `session` creates from now on encode its form bodies once.

    Registered first, so it runs before the signer that every client adds for the same
    event; the clients copy the session's handlers when they are created.
    """
    events = session.get_component("event_emitter")
    for service in FORM_ENCODED_SERVICES:
        events.register_first(
            f"request-created.{service}", encode_once, unique_id=f"pylon-encode-once-{service}"
        )

"""Form-encoded (AWS query protocol) request bodies, encoded once instead of twice.

SNS speaks the query protocol: botocore serializes a PublishBatch into a dict of form
fields (about 140 of them for 10 entries with Pylon's attributes) and leaves the request
body as that dict. The SigV4 signer then reads the body to hash it, which URL-encodes
the dict, and sending the request encodes it all over again. The encoding is the single
largest part of building a PublishBatch: about 0.3 ms of CPU each time, on the machine
of bench/RESULTS.md, for a call that costs about 2 ms in all.

`encode_once` runs before the signer and replaces the dict with its encoding, made by
botocore's own request preparer, so the bytes on the wire are the ones botocore would
have sent; the signer and the sender then both use that text.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSRequest
from botocore.session import Session

# The services Pylon calls whose requests are form-encoded (SQS moved to JSON).
FORM_ENCODED_SERVICES = ("sns",)


def encode_once(request: AWSRequest, **_: Any) -> None:
    """Replace a form-field dict body with its URL encoding (anything else is left as is).

    Idempotent: a retried call builds its request again from the serialized fields, and
    that request is encoded again here, once.
    """
    if isinstance(request.data, dict):
        request.data = request.prepare().body


def register(session: Session) -> None:
    """Encode the form bodies of every client `session` creates from now on once.

    Registered first, so it runs before the signer that every client adds for the same
    event; the clients copy the session's handlers when they are created.
    """
    events = session.get_component("event_emitter")
    for service in FORM_ENCODED_SERVICES:
        events.register_first(
            f"request-created.{service}", encode_once, unique_id=f"pylon-encode-once-{service}"
        )

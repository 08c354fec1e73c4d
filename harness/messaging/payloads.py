"""Large payloads of the messages the harness sends (`pylon send`, `pylon replay`, tests).

A message the harness sends must reach a component exactly as one a Pylon component
published: over SNS's 256 KiB (UTF-8 bytes, body plus attributes), its body goes to S3
and the message carries the extended-client pointer and Pylon's `payloadType=S3` /
`payloadS3Path` attributes. `pylon.payloads.PayloadOffloader` does the offloading; this
module adds what a command needs around it: a location chosen from a spec or a bucket,
the bucket created on first use, and a clear error when no location was given.
"""

from __future__ import annotations

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from harness.errors import HarnessError
from pylon.aws.clients import new_client
from pylon.aws.s3 import S3Store
from pylon.payloads import SNS_MAX_MESSAGE_BYTES, PayloadOffloader
from pylon.s3_pointer import S3Location
from pylon.wire import WireMessage


class OversizedMessageError(HarnessError):
    """A message over SNS's limit, and nowhere to offload its payload to."""


def payload_location(
    spec_payload_path: str | None, bucket: str | None, purpose: str
) -> S3Location | None:
    """Where `purpose` ("send", "replay") puts payloads: under the spec's `payloads.s3_path`,
    next to the pipeline's own offloaded ones, or in `bucket`; None when neither is given.

    An explicit bucket wins over the spec's location.
    """
    if bucket:
        return S3Location(bucket, f"pylon-{purpose}/")
    if spec_payload_path:
        return S3Location.parse(spec_payload_path, "payloads.s3_path").child(f"{purpose}/")
    return None


class OutgoingPayloads:
    """Puts payloads under one S3 location, creating its bucket the first time."""

    def __init__(self, location: S3Location, session: boto3.session.Session | None = None):
        self.location = location
        self._client = new_client("s3", session or boto3.session.Session())
        self._store = S3Store(self._client)
        self._bucket_ready = False

    def put(self, target: S3Location, data: bytes, mime_type: str) -> None:
        self._ensure_bucket()
        self._store.put_bytes(target, data, mime_type)

    def offload_if_needed(self, wire: WireMessage) -> WireMessage:
        """The message as a component would publish it: offloaded when over the limit."""
        if wire.size_bytes <= SNS_MAX_MESSAGE_BYTES:
            return wire
        self._ensure_bucket()
        return PayloadOffloader(self._store, self.location.uri).offload_if_needed(wire)

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        bucket = self.location.bucket
        try:
            self._client.head_bucket(Bucket=bucket)
        except ClientError:
            try:
                self._client.create_bucket(Bucket=bucket)
            except (ClientError, BotoCoreError) as exc:
                raise HarnessError(
                    f"bucket {bucket!r} for offloaded payloads does not exist and cannot be "
                    f"created ({exc}); name an existing bucket"
                ) from None
        self._bucket_ready = True


def offload_or_refuse(wire: WireMessage, payloads: OutgoingPayloads | None) -> WireMessage:
    """Offload `wire` when it is over the limit, or say how to let it be offloaded."""
    if payloads is not None:
        return payloads.offload_if_needed(wire)
    if wire.size_bytes > SNS_MAX_MESSAGE_BYTES:
        raise OversizedMessageError(
            f"the message is {wire.size_bytes} bytes (UTF-8 body plus attributes), over "
            f"SNS's {SNS_MAX_MESSAGE_BYTES}-byte limit, and no payload location was given "
            "to offload its body to S3 as a Pylon component does: pass --spec SPEC (its "
            "payloads.s3_path) or --payload-bucket BUCKET to `pylon send`, or give the "
            "pipeline's spec a payloads.s3_path"
        )
    return wire

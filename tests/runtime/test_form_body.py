"""Pylon's SNS clients encode a request body once, to the bytes botocore itself sends.

Against the emulator: the same PublishBatch through Pylon's client and through a plain
boto3 client sends identical bodies, and the messages arrive intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ParamValidationError
from hypothesis import given
from hypothesis import strategies as st

from pylon.aws import SnsTopic
from pylon.aws.clients import CLIENT_CONFIG, new_client
from pylon.aws.form_body import encode_once, form_encode
from pylon.wire import WireMessage
from tests.conftest import Wiring

# Every character class the form encoding treats differently: reserved characters,
# spaces, a line break, non-ASCII text and a character outside the BMP.
AWKWARD = 'a&b=c+d e%f/g?h#i\nj "k" ünïcödé ☃ 😀 {"json": [1, 2]}'


class _Recorder:
    """What a client hands to the signer and what it finally sends, per request."""

    def __init__(self, client: Any) -> None:
        self.signed: list[object] = []
        self.sent: list[bytes | str] = []
        client.meta.events.register("before-sign.sns", self._before_sign)
        client.meta.events.register("before-send.sns", self._before_send)

    def _before_sign(self, request: AWSRequest, **_: Any) -> None:
        self.signed.append(request.data)

    def _before_send(self, request: Any, **_: Any) -> None:
        self.sent.append(request.body)


def _wires() -> list[WireMessage]:
    return [
        WireMessage(f"{AWKWARD} #{index}", {"objectType": "rawContent", "note": AWKWARD})
        for index in range(10)
    ]


def test_pylon_sends_the_bytes_a_plain_boto3_client_sends(wiring: Wiring) -> None:
    pylon_client = new_client("sns", assembled=True)
    plain_client = boto3.client("sns", config=CLIENT_CONFIG)
    pylon_sent, plain_sent = _Recorder(pylon_client), _Recorder(plain_client)

    SnsTopic(wiring.topic_arn, pylon_client).publish(_wires())
    SnsTopic(wiring.topic_arn, plain_client).publish(_wires())

    assert len(pylon_sent.sent) == len(plain_sent.sent) == 1
    assert pylon_sent.sent == plain_sent.sent
    delivered = wiring.collect_raw(wiring.observer, 20)
    assert sorted(m.body for m in delivered) == sorted(w.body for w in _wires() * 2)
    assert {m.attributes["note"] for m in delivered} == {AWKWARD}


def test_the_signer_gets_the_encoded_body_so_it_is_not_encoded_again(wiring: Wiring) -> None:
    pylon_client = new_client("sns")
    plain_client = boto3.client("sns", config=CLIENT_CONFIG)
    pylon_seen, plain_seen = _Recorder(pylon_client), _Recorder(plain_client)

    SnsTopic(wiring.topic_arn, pylon_client).publish(_wires()[:1])
    SnsTopic(wiring.topic_arn, plain_client).publish(_wires()[:1])

    assert [type(data) for data in plain_seen.signed] == [dict]  # botocore's own way
    assert [type(data) for data in pylon_seen.signed] == [str]
    assert pylon_seen.signed == pylon_seen.sent


def test_runtime_clients_skip_botocores_second_check_and_others_keep_it(
    wiring: Wiring,
) -> None:
    """Which is why `codec.encode` checks every attribute is text before they go out."""
    with pytest.raises(ParamValidationError, match="Invalid type for parameter Message"):
        new_client("sns").publish(TopicArn=wiring.topic_arn, Message=42)

    new_client("sns", assembled=True).publish(TopicArn=wiring.topic_arn, Message=42)

    [delivered] = wiring.collect_raw(wiring.observer, 1)
    assert delivered.body == "42"


def test_encoding_again_changes_nothing() -> None:
    """A retried call builds its request anew; one already encoded stays as it is."""
    request = AWSRequest(method="POST", url="http://127.0.0.1:9/", data={"A": AWKWARD, "B": "1"})
    expected = request.prepare().body

    encode_once(request)
    once = request.data
    encode_once(request)

    assert once == expected == request.data
    assert isinstance(once, str) and "&B=1" in once


def _botocores_encoding(fields: dict[Any, Any]) -> str:
    return AWSRequest(method="POST", url="http://127.0.0.1:9/", data=dict(fields)).prepare().body


# Short texts go through the kept encodings, long ones not: both kinds, and repeats.
_TEXTS = st.one_of(st.text(max_size=20), st.text(min_size=120, max_size=300), st.just(AWKWARD))


@given(st.dictionaries(_TEXTS, _TEXTS, max_size=12))
def test_form_encoding_is_botocores_for_any_text(fields: dict[str, str]) -> None:
    assert form_encode(fields) == _botocores_encoding(fields)


@given(st.dictionaries(st.binary(max_size=40), st.binary(max_size=200), max_size=6))
def test_form_encoding_is_botocores_for_bytes(fields: dict[bytes, bytes]) -> None:
    assert form_encode(fields) == _botocores_encoding(fields)


@pytest.mark.parametrize("value", [5, 1.5, True, None, ["a", "b c"]])
def test_fields_that_are_not_text_are_left_to_botocores_encoder(value: object) -> None:
    request = AWSRequest(method="POST", url="http://127.0.0.1:9/", data={"A": "1", "B": value})

    encode_once(request)

    assert request.data == _botocores_encoding({"A": "1", "B": value})


@pytest.mark.parametrize("body", [b"{}", '{"json": "text"}', b""])
def test_a_body_that_is_not_form_fields_is_left_alone(body: bytes | str) -> None:
    request = AWSRequest(method="POST", url="http://127.0.0.1:9/", data=body)

    encode_once(request)

    assert request.data is body


def test_the_readme_example_of_pylons_clients_runs(aws_env: object) -> None:
    """The README's example under "AWS wrappers", run as written against the emulator."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("Their clients come from `pylon.aws.clients.new_client`", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {"__name__": "readme_example"}

    exec(compile(example, "README.md (AWS wrappers)", "exec", dont_inherit=True), namespace)

    sns = namespace["sns"]
    assert namespace["arn"] in [t["TopicArn"] for t in sns.list_topics()["Topics"]]

"""LocalStack init hook: provisions pipeline 'docs' (examples/docs_pipeline/pipeline.yaml) on boot.

Written by `pylon provision --init-hook`; regenerate it rather than editing it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.exceptions import ClientError

_SERVICE_PORT = re.compile(r"\{services\.([A-Za-z0-9_-]+)\.port\}")


def replay(
    calls: list[dict[str, Any]],
    endpoint_for: Callable[[str], str],
    service_ports: Mapping[str, int],
    region: str = "us-east-1",
) -> int:
    """Make each call in order; return how many were made."""
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=region
    )
    clients: dict[str, Any] = {}
    changed: dict[str, str] = {}
    for call in calls:
        service = call["service"]
        if service not in clients:
            clients[service] = session.client(service, endpoint_url=endpoint_for(service))
        params = _rewrite(call["params"], changed, service_ports)
        try:
            response = getattr(clients[service], call["method"])(**params)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != call.get("error"):
                raise
            continue
        _learn(call.get("response"), response, changed)
    return len(calls)


def endpoints_from_environment(default: str) -> Callable[[str], str]:
    """`PYLON_HOOK_ENDPOINT_<SERVICE>` where set (e.g. DynamoDB on MiniStack), else `default`."""

    def endpoint_for(service: str) -> str:
        return os.environ.get(f"PYLON_HOOK_ENDPOINT_{service.upper()}") or default

    return endpoint_for


def ports_from_environment(defaults: Mapping[str, int]) -> dict[str, int]:
    """`PYLON_SERVICE_PORT_<NAME>` (dashes as underscores) where set, else the default."""
    return {
        name: int(os.environ.get(f"PYLON_SERVICE_PORT_{name.upper().replace('-', '_')}", port))
        for name, port in defaults.items()
    }


def _rewrite(value: Any, changed: Mapping[str, str], ports: Mapping[str, int]) -> Any:
    if isinstance(value, str):
        for old in sorted(changed, key=len, reverse=True):
            value = value.replace(old, changed[old])
        return _SERVICE_PORT.sub(lambda match: str(ports[match.group(1)]), value)
    if isinstance(value, dict):
        return {key: _rewrite(item, changed, ports) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, changed, ports) for item in value]
    return value


def _learn(recorded: Any, actual: Any, changed: dict[str, str]) -> None:
    """Every string of the recorded response that came back different this time."""
    if isinstance(recorded, str) and isinstance(actual, str):
        if recorded != actual:
            changed[recorded] = actual
    elif isinstance(recorded, dict) and isinstance(actual, dict):
        for key, item in recorded.items():
            _learn(item, actual.get(key), changed)
    elif isinstance(recorded, list) and isinstance(actual, list):
        for old, new in zip(recorded, actual, strict=False):
            _learn(old, new, changed)


CALLS = json.loads(r"""[
 {
  "method": "create_topic",
  "params": {
   "Name": "documents"
  },
  "response": {
   "TopicArn": "arn:aws:sns:us-east-1:000000000000:documents"
  },
  "service": "sns"
 },
 {
  "method": "create_topic",
  "params": {
   "Name": "readings"
  },
  "response": {
   "TopicArn": "arn:aws:sns:us-east-1:000000000000:readings"
  },
  "service": "sns"
 },
 {
  "method": "create_bucket",
  "params": {
   "Bucket": "docs-lake"
  },
  "response": {
   "Location": "/docs-lake"
  },
  "service": "s3"
 },
 {
  "method": "create_bucket",
  "params": {
   "Bucket": "docs-payloads"
  },
  "response": {
   "Location": "/docs-payloads"
  },
  "service": "s3"
 },
 {
  "method": "put_parameter",
  "params": {
   "Name": "/pylon/docs/fetcher",
   "Overwrite": true,
   "Type": "SecureString",
   "Value": "{\"OUTPUT_PAYLOAD_S3_PATH\": \"s3://docs-payloads/offload/\", \"OUTPUT_TOPIC_ARN\": \"arn:aws:sns:us-east-1:000000000000:documents\", \"PUBLIC_CONFIG_KEYS\": [\"SOURCE_URL\"], \"SOURCE_INTERVAL_SECONDS\": 3600, \"SOURCE_URL\": \"http://127.0.0.1:{services.docs-server.port}/index.json\", \"WAIT_TIME_SECONDS\": 1}"
  },
  "response": {
   "Tier": "Standard",
   "Version": 1
  },
  "service": "ssm"
 },
 {
  "error": "AWS.SimpleQueueService.NonExistentQueue",
  "method": "get_queue_url",
  "params": {
   "QueueName": "parser-in-dlq"
  },
  "service": "sqs"
 },
 {
  "method": "create_queue",
  "params": {
   "Attributes": {
    "MessageRetentionPeriod": "1209600"
   },
   "QueueName": "parser-in-dlq"
  },
  "response": {
   "QueueUrl": "http://127.0.0.1:36735/000000000000/parser-in-dlq"
  },
  "service": "sqs"
 },
 {
  "method": "get_queue_attributes",
  "params": {
   "AttributeNames": [
    "QueueArn"
   ],
   "QueueUrl": "http://127.0.0.1:36735/000000000000/parser-in-dlq"
  },
  "response": {
   "Attributes": {
    "QueueArn": "arn:aws:sqs:us-east-1:000000000000:parser-in-dlq"
   }
  },
  "service": "sqs"
 },
 {
  "error": "AWS.SimpleQueueService.NonExistentQueue",
  "method": "get_queue_url",
  "params": {
   "QueueName": "parser-in"
  },
  "service": "sqs"
 },
 {
  "method": "create_queue",
  "params": {
   "Attributes": {
    "RedrivePolicy": "{\"deadLetterTargetArn\": \"arn:aws:sqs:us-east-1:000000000000:parser-in-dlq\", \"maxReceiveCount\": 3}",
    "VisibilityTimeout": "30"
   },
   "QueueName": "parser-in"
  },
  "response": {
   "QueueUrl": "http://127.0.0.1:36735/000000000000/parser-in"
  },
  "service": "sqs"
 },
 {
  "method": "get_queue_attributes",
  "params": {
   "AttributeNames": [
    "QueueArn"
   ],
   "QueueUrl": "http://127.0.0.1:36735/000000000000/parser-in"
  },
  "response": {
   "Attributes": {
    "QueueArn": "arn:aws:sqs:us-east-1:000000000000:parser-in"
   }
  },
  "service": "sqs"
 },
 {
  "method": "list_subscriptions_by_topic",
  "params": {
   "TopicArn": "arn:aws:sns:us-east-1:000000000000:documents"
  },
  "response": {
   "Subscriptions": []
  },
  "service": "sns"
 },
 {
  "method": "list_subscriptions_by_topic",
  "params": {
   "TopicArn": "arn:aws:sns:us-east-1:000000000000:readings"
  },
  "response": {
   "Subscriptions": []
  },
  "service": "sns"
 },
 {
  "method": "set_queue_attributes",
  "params": {
   "Attributes": {
    "Policy": "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"PylonSubscribedTopics\", \"Effect\": \"Allow\", \"Principal\": {\"Service\": \"sns.amazonaws.com\"}, \"Action\": \"sqs:SendMessage\", \"Resource\": \"arn:aws:sqs:us-east-1:000000000000:parser-in\", \"Condition\": {\"ArnEquals\": {\"aws:SourceArn\": [\"arn:aws:sns:us-east-1:000000000000:documents\"]}}}]}"
   },
   "QueueUrl": "http://127.0.0.1:36735/000000000000/parser-in"
  },
  "response": {},
  "service": "sqs"
 },
 {
  "method": "subscribe",
  "params": {
   "Attributes": {
    "FilterPolicy": "{\"objectType\": [\"urlResource\"]}",
    "FilterPolicyScope": "MessageAttributes",
    "RawMessageDelivery": "true"
   },
   "Endpoint": "arn:aws:sqs:us-east-1:000000000000:parser-in",
   "Protocol": "sqs",
   "ReturnSubscriptionArn": true,
   "TopicArn": "arn:aws:sns:us-east-1:000000000000:documents"
  },
  "response": {
   "SubscriptionArn": "arn:aws:sns:us-east-1:000000000000:documents:f022a511-3a51-4848-a43b-d2f099ea9f83"
  },
  "service": "sns"
 },
 {
  "method": "put_parameter",
  "params": {
   "Name": "/pylon/docs/parser",
   "Overwrite": true,
   "Type": "SecureString",
   "Value": "{\"INPUT_QUEUE_NAME\": \"parser-in\", \"OUTPUT_PAYLOAD_S3_PATH\": \"s3://docs-payloads/offload/\", \"OUTPUT_TOPIC_ARN\": \"arn:aws:sns:us-east-1:000000000000:readings\", \"WAIT_TIME_SECONDS\": 1}"
  },
  "response": {
   "Tier": "Standard",
   "Version": 1
  },
  "service": "ssm"
 },
 {
  "error": "AWS.SimpleQueueService.NonExistentQueue",
  "method": "get_queue_url",
  "params": {
   "QueueName": "lake-writer-in-dlq"
  },
  "service": "sqs"
 },
 {
  "method": "create_queue",
  "params": {
   "Attributes": {
    "MessageRetentionPeriod": "1209600"
   },
   "QueueName": "lake-writer-in-dlq"
  },
  "response": {
   "QueueUrl": "http://127.0.0.1:36735/000000000000/lake-writer-in-dlq"
  },
  "service": "sqs"
 },
 {
  "method": "get_queue_attributes",
  "params": {
   "AttributeNames": [
    "QueueArn"
   ],
   "QueueUrl": "http://127.0.0.1:36735/000000000000/lake-writer-in-dlq"
  },
  "response": {
   "Attributes": {
    "QueueArn": "arn:aws:sqs:us-east-1:000000000000:lake-writer-in-dlq"
   }
  },
  "service": "sqs"
 },
 {
  "error": "AWS.SimpleQueueService.NonExistentQueue",
  "method": "get_queue_url",
  "params": {
   "QueueName": "lake-writer-in"
  },
  "service": "sqs"
 },
 {
  "method": "create_queue",
  "params": {
   "Attributes": {
    "RedrivePolicy": "{\"deadLetterTargetArn\": \"arn:aws:sqs:us-east-1:000000000000:lake-writer-in-dlq\", \"maxReceiveCount\": 3}",
    "VisibilityTimeout": "30"
   },
   "QueueName": "lake-writer-in"
  },
  "response": {
   "QueueUrl": "http://127.0.0.1:36735/000000000000/lake-writer-in"
  },
  "service": "sqs"
 },
 {
  "method": "get_queue_attributes",
  "params": {
   "AttributeNames": [
    "QueueArn"
   ],
   "QueueUrl": "http://127.0.0.1:36735/000000000000/lake-writer-in"
  },
  "response": {
   "Attributes": {
    "QueueArn": "arn:aws:sqs:us-east-1:000000000000:lake-writer-in"
   }
  },
  "service": "sqs"
 },
 {
  "method": "set_queue_attributes",
  "params": {
   "Attributes": {
    "Policy": "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"PylonSubscribedTopics\", \"Effect\": \"Allow\", \"Principal\": {\"Service\": \"sns.amazonaws.com\"}, \"Action\": \"sqs:SendMessage\", \"Resource\": \"arn:aws:sqs:us-east-1:000000000000:lake-writer-in\", \"Condition\": {\"ArnEquals\": {\"aws:SourceArn\": [\"arn:aws:sns:us-east-1:000000000000:readings\"]}}}]}"
   },
   "QueueUrl": "http://127.0.0.1:36735/000000000000/lake-writer-in"
  },
  "response": {},
  "service": "sqs"
 },
 {
  "method": "subscribe",
  "params": {
   "Attributes": {
    "FilterPolicy": "{\"objectType\": [\"dataAsset\"]}",
    "FilterPolicyScope": "MessageAttributes",
    "RawMessageDelivery": "true"
   },
   "Endpoint": "arn:aws:sqs:us-east-1:000000000000:lake-writer-in",
   "Protocol": "sqs",
   "ReturnSubscriptionArn": true,
   "TopicArn": "arn:aws:sns:us-east-1:000000000000:readings"
  },
  "response": {
   "SubscriptionArn": "arn:aws:sns:us-east-1:000000000000:readings:67889fec-8831-44ec-a63a-4f1d1f3642e0"
  },
  "service": "sns"
 },
 {
  "method": "put_parameter",
  "params": {
   "Name": "/pylon/docs/lake-writer",
   "Overwrite": true,
   "Type": "SecureString",
   "Value": "{\"INPUT_QUEUE_NAME\": \"lake-writer-in\", \"LAKE_S3_PATH\": \"s3://docs-lake/lake/\", \"OUTPUT_PAYLOAD_S3_PATH\": \"s3://docs-payloads/offload/\", \"PUBLIC_CONFIG_KEYS\": [\"LAKE_S3_PATH\"], \"WAIT_TIME_SECONDS\": 1}"
  },
  "response": {
   "Tier": "Standard",
   "Version": 1
  },
  "service": "ssm"
 },
 {
  "error": "AWS.SimpleQueueService.NonExistentQueue",
  "method": "get_queue_url",
  "params": {
   "QueueName": "docs-pylon-lineage-in-dlq"
  },
  "service": "sqs"
 },
 {
  "method": "create_queue",
  "params": {
   "Attributes": {
    "MessageRetentionPeriod": "1209600"
   },
   "QueueName": "docs-pylon-lineage-in-dlq"
  },
  "response": {
   "QueueUrl": "http://127.0.0.1:36735/000000000000/docs-pylon-lineage-in-dlq"
  },
  "service": "sqs"
 },
 {
  "method": "get_queue_attributes",
  "params": {
   "AttributeNames": [
    "QueueArn"
   ],
   "QueueUrl": "http://127.0.0.1:36735/000000000000/docs-pylon-lineage-in-dlq"
  },
  "response": {
   "Attributes": {
    "QueueArn": "arn:aws:sqs:us-east-1:000000000000:docs-pylon-lineage-in-dlq"
   }
  },
  "service": "sqs"
 },
 {
  "error": "AWS.SimpleQueueService.NonExistentQueue",
  "method": "get_queue_url",
  "params": {
   "QueueName": "docs-pylon-lineage-in"
  },
  "service": "sqs"
 },
 {
  "method": "create_queue",
  "params": {
   "Attributes": {
    "RedrivePolicy": "{\"deadLetterTargetArn\": \"arn:aws:sqs:us-east-1:000000000000:docs-pylon-lineage-in-dlq\", \"maxReceiveCount\": 3}",
    "VisibilityTimeout": "30"
   },
   "QueueName": "docs-pylon-lineage-in"
  },
  "response": {
   "QueueUrl": "http://127.0.0.1:36735/000000000000/docs-pylon-lineage-in"
  },
  "service": "sqs"
 },
 {
  "method": "get_queue_attributes",
  "params": {
   "AttributeNames": [
    "QueueArn"
   ],
   "QueueUrl": "http://127.0.0.1:36735/000000000000/docs-pylon-lineage-in"
  },
  "response": {
   "Attributes": {
    "QueueArn": "arn:aws:sqs:us-east-1:000000000000:docs-pylon-lineage-in"
   }
  },
  "service": "sqs"
 },
 {
  "method": "set_queue_attributes",
  "params": {
   "Attributes": {
    "Policy": "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"PylonSubscribedTopics\", \"Effect\": \"Allow\", \"Principal\": {\"Service\": \"sns.amazonaws.com\"}, \"Action\": \"sqs:SendMessage\", \"Resource\": \"arn:aws:sqs:us-east-1:000000000000:docs-pylon-lineage-in\", \"Condition\": {\"ArnEquals\": {\"aws:SourceArn\": [\"arn:aws:sns:us-east-1:000000000000:documents\", \"arn:aws:sns:us-east-1:000000000000:readings\"]}}}]}"
   },
   "QueueUrl": "http://127.0.0.1:36735/000000000000/docs-pylon-lineage-in"
  },
  "response": {},
  "service": "sqs"
 },
 {
  "method": "subscribe",
  "params": {
   "Attributes": {
    "FilterPolicy": "{\"objectType\": [\"ingestionStep\"]}",
    "FilterPolicyScope": "MessageAttributes",
    "RawMessageDelivery": "true"
   },
   "Endpoint": "arn:aws:sqs:us-east-1:000000000000:docs-pylon-lineage-in",
   "Protocol": "sqs",
   "ReturnSubscriptionArn": true,
   "TopicArn": "arn:aws:sns:us-east-1:000000000000:documents"
  },
  "response": {
   "SubscriptionArn": "arn:aws:sns:us-east-1:000000000000:documents:96021724-2bc6-4e54-b3b2-4b5839a1b3c7"
  },
  "service": "sns"
 },
 {
  "method": "subscribe",
  "params": {
   "Attributes": {
    "FilterPolicy": "{\"objectType\": [\"ingestionStep\"]}",
    "FilterPolicyScope": "MessageAttributes",
    "RawMessageDelivery": "true"
   },
   "Endpoint": "arn:aws:sqs:us-east-1:000000000000:docs-pylon-lineage-in",
   "Protocol": "sqs",
   "ReturnSubscriptionArn": true,
   "TopicArn": "arn:aws:sns:us-east-1:000000000000:readings"
  },
  "response": {
   "SubscriptionArn": "arn:aws:sns:us-east-1:000000000000:readings:eaa3db16-5e51-44e2-8505-b64c63745e1a"
  },
  "service": "sns"
 },
 {
  "method": "put_parameter",
  "params": {
   "Name": "/pylon/docs/pylon-lineage",
   "Overwrite": true,
   "Type": "SecureString",
   "Value": "{\"INPUT_QUEUE_NAME\": \"docs-pylon-lineage-in\", \"LINEAGE_TABLE_NAME\": \"docs-lineage\", \"OUTPUT_PAYLOAD_S3_PATH\": \"s3://docs-payloads/offload/\", \"WAIT_TIME_SECONDS\": 1}"
  },
  "response": {
   "Tier": "Standard",
   "Version": 1
  },
  "service": "ssm"
 },
 {
  "method": "create_table",
  "params": {
   "AttributeDefinitions": [
    {
     "AttributeName": "ingestionId",
     "AttributeType": "S"
    }
   ],
   "BillingMode": "PAY_PER_REQUEST",
   "KeySchema": [
    {
     "AttributeName": "ingestionId",
     "KeyType": "HASH"
    }
   ],
   "TableName": "docs-lineage"
  },
  "response": {
   "TableDescription": {
    "AttributeDefinitions": [
     {
      "AttributeName": "ingestionId",
      "AttributeType": "S"
     }
    ],
    "BillingModeSummary": {
     "BillingMode": "PAY_PER_REQUEST"
    },
    "CreationDateTime": "2026-12-05T13:27:49+00:00",
    "DeletionProtectionEnabled": false,
    "ItemCount": 0,
    "KeySchema": [
     {
      "AttributeName": "ingestionId",
      "KeyType": "HASH"
     }
    ],
    "ProvisionedThroughput": {
     "ReadCapacityUnits": 0,
     "WriteCapacityUnits": 0
    },
    "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/docs-lineage",
    "TableId": "b26edb6b-f082-4c72-ab59-dd426fd1d28d",
    "TableName": "docs-lineage",
    "TableSizeBytes": 0,
    "TableStatus": "ACTIVE",
    "WarmThroughput": {
     "ReadUnitsPerSecond": 0,
     "Status": "ACTIVE",
     "WriteUnitsPerSecond": 0
    }
   }
  },
  "service": "dynamodb"
 },
 {
  "method": "describe_table",
  "params": {
   "TableName": "docs-lineage"
  },
  "response": {
   "Table": {
    "AttributeDefinitions": [
     {
      "AttributeName": "ingestionId",
      "AttributeType": "S"
     }
    ],
    "BillingModeSummary": {
     "BillingMode": "PAY_PER_REQUEST"
    },
    "CreationDateTime": "2026-12-05T13:27:49+00:00",
    "DeletionProtectionEnabled": false,
    "ItemCount": 0,
    "KeySchema": [
     {
      "AttributeName": "ingestionId",
      "KeyType": "HASH"
     }
    ],
    "ProvisionedThroughput": {
     "ReadCapacityUnits": 0,
     "WriteCapacityUnits": 0
    },
    "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/docs-lineage",
    "TableId": "b26edb6b-f082-4c72-ab59-dd426fd1d28d",
    "TableName": "docs-lineage",
    "TableSizeBytes": 0,
    "TableStatus": "ACTIVE",
    "WarmThroughput": {
     "ReadUnitsPerSecond": 0,
     "Status": "ACTIVE",
     "WriteUnitsPerSecond": 0
    }
   }
  },
  "service": "dynamodb"
 },
 {
  "method": "describe_table",
  "params": {
   "TableName": "docs-lineage"
  },
  "response": {
   "Table": {
    "AttributeDefinitions": [
     {
      "AttributeName": "ingestionId",
      "AttributeType": "S"
     }
    ],
    "BillingModeSummary": {
     "BillingMode": "PAY_PER_REQUEST"
    },
    "CreationDateTime": "2026-12-05T13:27:49+00:00",
    "DeletionProtectionEnabled": false,
    "ItemCount": 0,
    "KeySchema": [
     {
      "AttributeName": "ingestionId",
      "KeyType": "HASH"
     }
    ],
    "ProvisionedThroughput": {
     "ReadCapacityUnits": 0,
     "WriteCapacityUnits": 0
    },
    "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/docs-lineage",
    "TableId": "b26edb6b-f082-4c72-ab59-dd426fd1d28d",
    "TableName": "docs-lineage",
    "TableSizeBytes": 0,
    "TableStatus": "ACTIVE",
    "WarmThroughput": {
     "ReadUnitsPerSecond": 0,
     "Status": "ACTIVE",
     "WriteUnitsPerSecond": 0
    }
   }
  },
  "service": "dynamodb"
 }
]""")
SERVICE_PORTS = {'docs-server': 8080}


def _gateway() -> str:
    try:
        from localstack import config
    except ImportError:  # not inside LocalStack: a plain run against one
        return os.environ.get('PYLON_HOOK_ENDPOINT') or 'http://127.0.0.1:4566'
    return os.environ.get('PYLON_HOOK_ENDPOINT') or config.internal_service_url()


made = replay(CALLS, endpoints_from_environment(_gateway()), ports_from_environment(SERVICE_PORTS))
print(f'pylon: provisioned docs ({made} calls)', flush=True)

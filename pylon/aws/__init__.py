"""Thin, typed wrappers over the AWS services Pylon components use."""

from pylon.aws.dynamodb import DynamoTable
from pylon.aws.lambda_ import LambdaFunction, LambdaInvocationError
from pylon.aws.rds import RdsDatabase
from pylon.aws.s3 import S3Store
from pylon.aws.sns import SnsTopic
from pylon.aws.sqs import SqsQueue
from pylon.aws.ssm import SsmParameters

__all__ = [
    "DynamoTable",
    "LambdaFunction",
    "LambdaInvocationError",
    "RdsDatabase",
    "S3Store",
    "SnsTopic",
    "SqsQueue",
    "SsmParameters",
]

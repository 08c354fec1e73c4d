"""Putting messages into a pipeline: resolving a queue or topic by name, sending as a
producer would (large bodies offloaded to S3), and moving dead letters back."""

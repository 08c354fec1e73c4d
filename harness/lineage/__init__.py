"""Lineage you can see: the lineage store (a DynamoDB table), the sink that fills it, the
`pylon lineage` tree, and the OpenLineage export."""

"""Weather-station CSV documents -> parsed readings -> a partitioned, de-duplicated data lake.

Stages: `fetcher` (source) lists the documents of an index, `parser` (pipeline) turns one
CSV document into a `weather.readings` DataAsset, `lake_writer` (sink) merges it into
JSON Lines files in S3. `data_server` serves the sample documents in `data/` locally.
"""

"""`pylon ui`: a web inspector of a running pipeline (see `app` for the pages).

`observer` watches the pipeline without changing it, `store` keeps what was seen,
`log_events` turns component log lines into events, `actions` are what the buttons do,
`server` runs it all beside a pipeline.
"""

"""Fault injection and accounting for reliability tests of a local pipeline.

`faults` breaks a running pipeline on purpose (signals, a topic that refuses to publish,
an emulator restart), `log_watch` reads what the components said about it, `accounting`
checks that every input produced its outputs or sits in a dead-letter queue with its
reason, and `report` writes the result for humans and machines.
"""

#!/usr/bin/env bash
# The README's CLI walkthrough: capture, replay, lineage, OpenLineage and the graph, on the
# emulator at $PYLON_ENDPOINT (or the one `pylon emulator start` runs). Files go to $OUT.
set -euo pipefail
OUT=${OUT:-$(mktemp -d)}
SPEC=examples/readme/lineage.yaml

# Provision only (nothing runs yet), and let three greetings wait in hello's queue.
pylon provision "$SPEC"
for greeting in hi hello hey; do pylon send greetings --body "$greeting"; done

# Capture what sits in the queue: nothing is consumed, the messages stay for hello.
pylon capture hello-in --output "$OUT/greetings.jsonl"

# Replay the capture straight into echo's queue, paced at 20 messages per second.
pylon replay "$OUT/greetings.jsonl" --spec "$SPEC" --to echo --object-type rawContent --rate 20

# Run the pipeline until it is idle: hello and echo process everything, the lineage
# recorder stores every ingestion step in greeter-lineage.
pylon up "$SPEC" --until-idle 2

# Every step as OpenLineage run events, then the chain of one echo output as a tree.
pylon openlineage --spec "$SPEC" --file "$OUT/openlineage.jsonl"
ECHO_STEP=$(python -c 'import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
print(next(e["run"]["runId"] for e in events if e["job"]["name"] == "echo" and "parent" in e["run"]["facets"]
           and e["run"]["facets"]["parent"]["job"]["name"] == "hello"))' "$OUT/openlineage.jsonl")
pylon lineage "$ECHO_STEP" --spec "$SPEC"

# The topology, as Mermaid on stdout and as a picture.
pylon graph "$SPEC" --image "$OUT/greeter.png" > "$OUT/greeter.mmd"

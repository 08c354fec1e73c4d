#!/usr/bin/env bash
# The README's "Deploying to AWS" sequence, on the emulator at $PYLON_ENDPOINT (or the one
# `pylon emulator start` runs): check, export, lint, deploy, run on the stack, import back.
# Files go to $OUT.
set -euo pipefail
OUT=${OUT:-$(mktemp -d)}
SPEC=examples/docs_pipeline/pipeline.yaml

# What bites only in AWS (exit 1 on errors).
pylon check "$SPEC"

# The deploy-ready template, linted by the CloudFormation team's own linter.
pylon export cloudformation "$SPEC" --target ecs -o "$OUT/docs.yaml"
cfn-lint "$OUT/docs.yaml"

# The stack, on the emulator's CloudFormation, then every component's config pushed.
pylon deploy "$SPEC" --target ecs

# The example pipeline on the stack's resources, until it is idle.
pylon up "$SPEC" --deploy ecs --until-idle 2

# And back: the template as a spec, which exports to the same template.
pylon import cloudformation "$OUT/docs.yaml" -o "$OUT/docs.spec.yaml"
pylon export cloudformation "$OUT/docs.spec.yaml" --target ecs -o "$OUT/again.yaml"
cmp "$OUT/docs.yaml" "$OUT/again.yaml" && echo "round trip: the same template"

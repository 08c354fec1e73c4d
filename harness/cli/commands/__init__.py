"""One module per verb or verb group, each with `register(app)`; see harness.cli.main."""

"""The `pylon` command line: thin verbs over the domain packages.

`main` builds the app from every module in `commands/` (one verb or verb group each);
`shell` holds what every verb shares (consoles, error rendering, common options) and
`render` how resources, summaries and component logs are printed. No verb imports
another, and nothing outside this package imports it.
"""

"""CloudFormation: export a spec as a template, deploy it, check it, import one back."""

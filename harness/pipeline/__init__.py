"""A local pipeline as one object (services, provisioning, runners), and what it is doing."""

"""Packaging Pylon for Lambda: the layer zip, and reproducible zip archives."""

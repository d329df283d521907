"""Shared records and the per-document safety loop: the layer every other one stands on."""

"""Command and keyword handlers: one short module per feature, each registering itself."""

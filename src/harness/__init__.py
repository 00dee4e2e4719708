"""The acceptance harness: what the steps drive. Never imported by the platform."""

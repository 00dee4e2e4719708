"""Network faults for scenarios: a proxy the platform talks through, so the link can be slowed or cut."""

from harness.faults.proxy import LinkProxy

__all__ = ["LinkProxy"]

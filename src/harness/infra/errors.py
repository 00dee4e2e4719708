class InfrastructureUnavailable(RuntimeError):
    """The selected infrastructure mode cannot run on this machine; the message says why."""

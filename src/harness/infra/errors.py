class ConfigurationError(RuntimeError):
    """The run's settings cannot work (an unknown -D value, a missing key, an unreachable server).

    The message is one sentence that names the setting and the cause; the before_all hook prints it and stops
    the run before any scenario, since every scenario would fail the same way.
    """


class InfrastructureUnavailable(ConfigurationError):
    """The selected infrastructure mode cannot run on this machine; the message says why."""

"""The reference platform's HTTP services as OS processes, configured the way an operator deploys them.

`python -m harness.platform up` runs the whole embedded platform for a person to try.
"""

from harness.platform.environment import service_environment
from harness.platform.processes import ServiceFleet, ServiceProcess, ServiceUnavailable

__all__ = ["ServiceFleet", "ServiceProcess", "ServiceUnavailable", "service_environment"]

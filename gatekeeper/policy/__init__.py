"""Release policies: loading, validation and ``when`` conditions."""

from gatekeeper.policy.loader import Policy, Rule, load_policy, loads_policy

__all__ = ["Policy", "Rule", "load_policy", "loads_policy"]

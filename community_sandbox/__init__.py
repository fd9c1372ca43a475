"""A local HTTP sandbox that emulates the upstream APIs from a scenario folder (see SPEC §8).

The real clients (PyGithub, HttpHook) run against it unchanged; writes land in its outbox.
"""

from __future__ import annotations

from community_sandbox.loading import ScenarioError
from community_sandbox.scenario import Fault, Scenario, load_scenario
from community_sandbox.server import Sandbox

__all__ = ["Fault", "Sandbox", "Scenario", "ScenarioError", "load_scenario"]

"""The emulated services. Adding an upstream = one module with a Service subclass + one line here."""

from __future__ import annotations

from community_monitoring.sandbox.discourse import DiscourseService
from community_monitoring.sandbox.github import GithubService
from community_monitoring.sandbox.gitlab import GitlabService
from community_monitoring.sandbox.jira import JiraService
from community_monitoring.sandbox.mattermost import MattermostService
from community_monitoring.sandbox.routing import Service
from community_monitoring.sandbox.stackexchange import StackExchangeService
from community_monitoring.sandbox.uservoice import UserVoiceService

SERVICES: tuple[type[Service], ...] = (
    GithubService,
    DiscourseService,
    MattermostService,
    GitlabService,
    StackExchangeService,
    UserVoiceService,
    JiraService,
)

"""The emulated services. Adding an upstream = one module with a Service subclass + one line here."""

from __future__ import annotations

from community_sandbox.discourse import DiscourseService
from community_sandbox.github import GithubService
from community_sandbox.gitlab import GitlabService
from community_sandbox.jira import JiraService
from community_sandbox.mattermost import MattermostService
from community_sandbox.routing import Service
from community_sandbox.stackexchange import StackExchangeService
from community_sandbox.uservoice import UserVoiceService

SERVICES: tuple[type[Service], ...] = (
    GithubService,
    DiscourseService,
    MattermostService,
    GitlabService,
    StackExchangeService,
    UserVoiceService,
    JiraService,
)

"""Post type with the deciding rule: labels/categories, template sections, phrases, channel default."""

from __future__ import annotations

import pytest

from builders import SETTINGS, post
from community_monitoring.classify import PostClassifier

CLASSIFIER = PostClassifier.from_settings(SETTINGS)


@pytest.mark.parametrize(
    ("case", "kwargs", "post_type", "rule"),
    [
        ("label Bug", {"labels": ("Bug",)}, "bug", 'label "Bug"'),
        ("label case-insensitive", {"labels": ("enhancement",)}, "feature_proposal", 'label "Enhancement"'),
        (
            "first mapped label wins",
            {"labels": ("Help Wanted", "Question", "Bug")},
            "question",
            'label "Question"',
        ),
        ("label beats phrase", {"labels": ("Bug",), "title": "How do I set this up?"}, "bug", 'label "Bug"'),
        (
            "forum category",
            {"channel": "forum", "category": "Troubleshooting", "title": "it would be nice"},
            "troubleshooting",
            'category "Troubleshooting"',
        ),
        (
            "template section",
            {"body": "## Steps to reproduce\n1. open\n## Expected behavior\nworks"},
            "bug",
            'template section "Steps to reproduce"',
        ),
        (
            "bold template section",
            {"body": "**Feature description**\nDark mode for the desktop app"},
            "feature_proposal",
            'template section "Feature description"',
        ),
        (
            "section name mid-sentence is no section",
            {"body": "I read the steps to reproduce in the docs"},
            "bug",
            "default for github",
        ),
        ("phrase in title", {"title": "How do I configure SMTP?"}, "question", 'phrase "How do I"'),
        (
            "phrase in body",
            {"title": "Login", "body": "I can't connect to the server"},
            "troubleshooting",
            'phrase "can\'t connect"',
        ),
        (
            "feature phrase",
            {"title": "It would be nice to have threads in exports"},
            "feature_proposal",
            'phrase "It would be nice"',
        ),
        ("earliest phrase wins", {"title": "How do I stop this crash"}, "question", 'phrase "How do I"'),
        ("phrase must be whole words", {"title": "Crashed pipelines"}, "bug", "default for github"),
        ("GitHub default", {"title": "Weird"}, "bug", "default for github"),
        ("forum default", {"channel": "forum", "title": "Weird"}, "troubleshooting", "default for forum"),
        (
            "unmapped category falls through",
            {"channel": "forum", "category": "Lounge", "title": "Weird"},
            "troubleshooting",
            "default for forum",
        ),
        (
            "Stack Overflow default",
            {"channel": "stackoverflow", "title": "Weird"},
            "question",
            "default for stackoverflow",
        ),
    ],
)
def test_classify(case: str, kwargs: dict[str, object], post_type: str, rule: str) -> None:
    result = CLASSIFIER.classify(post(**kwargs))
    assert (result.post_type, result.rule) == (post_type, rule), case

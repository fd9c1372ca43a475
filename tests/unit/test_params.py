"""The release closeout's params, checked before anything is sent, with errors that name the param."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from community_monitoring.params import (
    CloseoutParams,
    ParamError,
    closeout_params,
    flag_param,
    prompted_closeout_params,
    require_version,
)

TODAY = date(2026, 11, 18)
GOOD = {
    "version": "11.2",
    "release_date": "2026-11-16",
    "announcement_url": "https://mattermost.com/blog/11-2",
}


@pytest.mark.parametrize(
    ("version", "normalised"),
    [
        ("11.2", "11.2"),
        (" 11.2 ", "11.2"),
        ("11.2.1", "11.2.1"),
        ("10.11.3", "10.11.3"),
    ],
)
def test_version(version: str, normalised: str) -> None:
    assert closeout_params({**GOOD, "version": version}, TODAY).version == normalised


@pytest.mark.parametrize(
    "version",
    [
        "11.x",
        "11",
        "11.2.1.4",
        "version 11.2",
        "vv11.2",
        "11.2-rc1",
        " ",
        None,
        11.2,
        "v11.2",
        "V11.2",
        "v10.11.3",
    ],
)
def test_bad_version_is_named(version: Any) -> None:
    message = f"param 'version' must look like 11.2 or 11.2.1, got {version!r}"
    with pytest.raises(ParamError, match=f"^{re.escape(message)}$"):
        closeout_params({**GOOD, "version": version}, TODAY)


def test_version_is_required() -> None:
    with pytest.raises(ParamError, match="param 'version'"):
        closeout_params({"release_date": "2026-11-16"}, TODAY)


def test_the_forms_empty_version_waits_for_the_run_type() -> None:
    """Every task of an asset-triggered run sees the form's "" default; a manual run must not pass."""
    pending = closeout_params({**GOOD, "version": ""}, TODAY)
    assert pending.version == ""
    with pytest.raises(ParamError, match=r"^param 'version' is required"):
        require_version(pending)
    assert require_version(closeout_params(GOOD, TODAY)).version == "11.2"


def test_a_release_event_prompts_a_dry_run_of_its_version() -> None:
    event = {
        "version": "11.1",
        "tag": "v11.1.0",
        "url": "https://github.com/mattermost/mattermost/releases/tag/v11.1.0",
        "published_at": "2026-11-10T16:00:00+00:00",
    }
    params = prompted_closeout_params(event, TODAY)
    assert params == CloseoutParams("11.1", "2026-11-10", "", True, "v11.1.0@2026-11-10T16:00:00+00:00")
    assert params.is_prompt
    assert not closeout_params(GOOD, TODAY).is_prompt
    assert CloseoutParams(**params.to_dict()) == params


@pytest.mark.parametrize(
    "event", [{}, {"version": ""}, {"version": "nightly"}, {"version": "11.1", "published_at": "x"}]
)
def test_a_release_event_this_product_did_not_write_is_an_error(event: dict[str, Any]) -> None:
    # Nobody typed it: a plain error (retried, alerted), not a ParamError.
    with pytest.raises(ValueError, match="the release event") as caught:
        prompted_closeout_params(event, TODAY)
    assert not isinstance(caught.value, ParamError)


@pytest.mark.parametrize(
    ("release_date", "expected"),
    [("2026-11-16", "2026-11-16"), ("2024-02-29", "2024-02-29"), (None, "2026-11-18"), ("", "2026-11-18")],
)
def test_release_date(release_date: Any, expected: str) -> None:
    assert closeout_params({**GOOD, "release_date": release_date}, TODAY).release_date == expected


@pytest.mark.parametrize(
    ("release_date", "message"),
    [
        ("16/11/2026", "param 'release_date' must be a date YYYY-MM-DD, got '16/11/2026'"),
        ("2026-11-16T09:00:00Z", "param 'release_date' must be a date YYYY-MM-DD"),
        ("2026-1-16", "param 'release_date' must be a date YYYY-MM-DD"),
        (20261116, "param 'release_date' must be a date YYYY-MM-DD, got 20261116"),
        ("2026-02-30", "param 'release_date' is not a real date: '2026-02-30'"),
        ("2026-13-01", "param 'release_date' is not a real date: '2026-13-01'"),
    ],
)
def test_bad_release_date_is_named(release_date: Any, message: str) -> None:
    with pytest.raises(ParamError, match=re.escape(message)):
        closeout_params({**GOOD, "release_date": release_date}, TODAY)


@pytest.mark.parametrize(
    "url",
    ["https://mattermost.com/blog/11-2", "http://example.com", "https://example.com/a?b=c#d", "", None],
)
def test_announcement_url(url: Any) -> None:
    assert closeout_params({**GOOD, "announcement_url": url}, TODAY).announcement_url == (url or "")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.com/file",
        "file:///etc/passwd",
        "data:text/html,hi",
        "mattermost.com/blog",
        "https://",
        "https:// example.com",
        "http://exa mple.com",
        5,
    ],
)
def test_bad_announcement_url_is_named(url: Any) -> None:
    message = f"param 'announcement_url' must be an http(s) URL, got {url!r}"
    with pytest.raises(ParamError, match=f"^{re.escape(message)}$"):
        closeout_params({**GOOD, "announcement_url": url}, TODAY)


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), (None, False)])
def test_dry_run(value: Any, expected: bool) -> None:
    assert closeout_params({**GOOD, "dry_run": value}, TODAY).dry_run is expected
    assert closeout_params(GOOD, TODAY).dry_run is False


@pytest.mark.parametrize("value", ["yes", "true", "false", 1, 0, "1"])
def test_bad_dry_run_is_named(value: Any) -> None:
    message = f"param 'dry_run' must be true or false, got {value!r}"
    with pytest.raises(ParamError, match=f"^{re.escape(message)}$"):
        closeout_params({**GOOD, "dry_run": value}, TODAY)


def test_params_as_a_dict() -> None:
    params = closeout_params({**GOOD, "version": "11.2", "dry_run": True}, TODAY)
    assert params == CloseoutParams("11.2", "2026-11-16", "https://mattermost.com/blog/11-2", True)
    assert CloseoutParams(**params.to_dict()) == params


@pytest.mark.parametrize(
    ("params", "default", "expected"),
    [({"f": True}, False, True), ({"f": False}, True, False), ({}, True, True), ({"f": None}, True, True)],
)
def test_flag_param(params: dict[str, Any], default: bool, expected: bool) -> None:
    assert flag_param(params, "f", default) is expected


@pytest.mark.parametrize("value", ["false", "no", 0, 1, "True"])
def test_flag_param_is_strict(value: Any) -> None:
    with pytest.raises(ParamError, match=r"^param 'post_backfill_digests' must be true or false"):
        flag_param({"post_backfill_digests": value}, "post_backfill_digests")

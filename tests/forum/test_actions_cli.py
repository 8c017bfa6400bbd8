import json

import responses
from click.testing import CliRunner

from sidecar.cli import main
from sidecar.forum.discourse import DiscourseForum
from tests.forum.conftest import FORUM


def test_forum_actions_lists_what_was_done_and_why(
    forum: DiscourseForum, rsps: responses.RequestsMock, env: dict[str, str]
) -> None:
    rsps.add(
        "PUT",
        FORUM + "/admin/users/5/approve.json",
        json={"success": "OK"},
        content_type="application/json; charset=utf-8",
    )
    forum.with_cause("delivery:77").approve_user(5)
    result = CliRunner().invoke(main, ["forum", "actions", "--json"], env=env)
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    assert {k: entry[k] for k in ("action", "target", "outcome", "cause", "endpoint")} == {
        "action": "approve_user",
        "target": "user:5",
        "outcome": "done",
        "cause": "delivery:77",
        "endpoint": "PUT /admin/users/{id}/approve",
    }
    text = CliRunner().invoke(main, ["forum", "actions", "--target", "user:5"], env=env)
    assert "approve_user" in text.stdout
    assert "delivery:77" in text.stdout
    none = CliRunner().invoke(main, ["forum", "actions", "--target", "user:6", "--json"], env=env)
    assert json.loads(none.stdout) == []

"""The resources beyond chat and knowledge: webhooks, agent loops, analytics."""

import pytest

from wisp import NotFoundError, Wisp, models

# Nothing listens there: the URL only has to be allowed (the harness allows loopback).
TARGET = "http://127.0.0.1:9/py-hooks"


def test_webhooks_create_list_rotate_and_delete(client: Wisp):
    created = client.webhooks.create({"url": TARGET, "events": ["lead.created"], "description": "Python SDK test"})
    assert isinstance(created, models.CreatedWebhook)
    assert created.secret and created.enabled is True
    assert created.id in [hook.id for hook in client.webhooks.list()]
    rotated = client.webhooks.rotate_secret(created.id)
    assert rotated.id == created.id
    assert rotated.secret and rotated.secret != created.secret
    assert client.webhooks.update(created.id, {"enabled": False}).enabled is False
    assert client.webhooks.delete(created.id).deleted is True
    with pytest.raises(NotFoundError):
        client.webhooks.get(created.id)


def test_agent_loops_create_and_list(client: Wisp, live):
    loop = client.agent_loops.create(
        models.AgentLoopsCreateRequest(
            name="Python loop",
            chatbot_id=live["chatbotId"],
            instructions="Summarise the input in one sentence.",
            tools=["search_knowledge"],
            enabled=False,
        )
    )
    assert isinstance(loop, models.AgentLoop)
    assert (loop.name, loop.chatbot_id, loop.enabled) == ("Python loop", live["chatbotId"], False)
    assert loop.id in [item.id for item in client.agent_loops.list()]
    assert list(client.agent_loops.list_executions(loop.id)) == []
    assert client.agent_loops.delete(loop.id).deleted is True


def test_analytics_of_one_bot(client: Wisp, live):
    report = client.analytics.get(chatbot_id=live["chatbotId"])
    assert isinstance(report, models.AnalyticsReport)
    assert report.chatbot_id == live["chatbotId"]
    assert report.totals is not None

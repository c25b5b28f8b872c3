import uuid

import pytest

from wisp import NotFoundError, Wisp, models


def test_creates_reads_updates_lists_and_deletes_chatbots(client: Wisp):
    created = client.chatbots.create(models.ChatbotsCreateRequest(name="Py bot"))
    assert isinstance(created, models.CreatedChatbot)
    assert created.identity_secret
    assert client.chatbots.get(created.id).name == "Py bot"
    updated = client.chatbots.update(created.id, {"instructions": "Answer in French."})
    assert updated.instructions == "Answer in French."
    assert created.id in [bot.id for bot in client.chatbots.list()]
    assert client.chatbots.delete(created.id).deleted is True
    with pytest.raises(NotFoundError):
        client.chatbots.get(created.id)


def test_list_iterates_every_page(client: Wisp):
    names = {f"page bot {i} {uuid.uuid4().hex[:6]}" for i in range(5)}
    for name in names:
        client.chatbots.create({"name": name})
    listing = client.chatbots.list(per_page=2)
    seen = [bot.name for bot in listing]
    assert names <= set(seen)
    assert len(seen) == listing.total
    assert all(len(page) <= 2 for page in client.chatbots.list(per_page=2).pages())


def test_the_same_idempotency_key_creates_once(client: Wisp):
    key = f"py-{uuid.uuid4()}"
    first = client.chatbots.create({"name": "Once"}, idempotency_key=key)
    again = client.chatbots.create({"name": "Once"}, idempotency_key=key)
    assert again.id == first.id


def test_knowledge_sources_chunks_and_reindex(client: Wisp, live):
    source = client.sources.get(live["sourceId"])
    assert source.status == "ready"
    assert source.id in [s.id for s in client.sources.list(live["chatbotId"])]
    chunks = list(client.sources.list_chunks(source.id))
    assert chunks and "EU" in chunks[0].text
    added = client.sources.create(live["chatbotId"], {"type": "text", "title": "Hours", "content": "Open 9 to 5."})
    assert added.status == "queued"
    assert client.sources.update(added.id, {"title": "Opening hours"}).title == "Opening hours"
    assert client.sources.delete(added.id).deleted is True


def test_keys_usage_integrations_settings_and_leads(client: Wisp, live):
    key = client.api_keys.create({"name": "reader", "scopes": ["knowledge:read"]})
    assert key.key.startswith("sk_live_")
    assert client.api_keys.revoke(key.id).revoked_at is not None
    assert client.usage.get().plan == "free"
    integration = client.integrations.create(
        {"name": "Local", "baseUrl": "https://models.invalid/v1", "apiKey": "x", "chatModel": "m"}
    )
    assert client.integrations.get(integration.id).has_api_key is True
    assert client.integrations.delete(integration.id).deleted is True
    settings = client.widget_settings.update(live["chatbotId"], {"welcomeMessage": "Hello from Python"})
    assert settings.settings.welcome_message == "Hello from Python"
    assert any(change.version == settings.version for change in client.widget_settings.list_history(live["chatbotId"]))
    assert list(client.leads.list(chatbot_id=live["chatbotId"])) == []
    assert client.leads.export_csv(chatbot_id=live["chatbotId"]).splitlines()[0].startswith("id,")


def test_uploads_a_file_as_a_source(client: Wisp, live, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# Warranty\n\nEvery device has a two-year warranty.\n")
    uploaded = client.sources.upload(live["chatbotId"], notes, title="Warranty")
    assert (uploaded.status, uploaded.title, uploaded.type) == ("queued", "Warranty", "file")
    from_bytes = client.sources.upload(live["chatbotId"], b"Open 9 to 5.", filename="hours.txt")
    assert from_bytes.status == "queued"


def test_reads_the_public_widget_config_without_a_key(live):
    with Wisp(None, base_url=live["baseUrl"]) as anonymous:
        config = anonymous.widget.get_config(bot=live["chatbotSlug"])
    assert (config.bot_id, config.slug) == (live["chatbotId"], live["chatbotSlug"])

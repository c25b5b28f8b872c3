import urllib.request

import pytest

from wisp import ChatChunk, ChatDone, UnavailableError, Wisp


def test_answers_as_json_and_keeps_the_conversation(client: Wisp, live):
    answer = client.chat.send({"chatbotId": live["chatbotId"], "message": "How long does shipping take?"})
    assert answer.response
    conversation = client.conversations.get(answer.conversation_id)
    assert conversation.id == answer.conversation_id
    messages = list(client.conversations.list_messages(answer.conversation_id))
    assert [m.role for m in messages] == ["user", "assistant"]
    rated = client.messages.send_feedback(answer.message_id, {"rating": "up"})
    assert rated.feedback is not None


def test_streams_the_answer_as_events(client: Wisp, live):
    with client.chat.stream({"message": "Do you ship to the EU?"}, chatbot=live["chatbotSlug"]) as stream:
        events = list(stream)
    chunks = [e.text for e in events if isinstance(e, ChatChunk)]
    done = events[-1]
    assert isinstance(done, ChatDone)
    assert chunks and "".join(chunks) == done.answer.response
    assert stream.conversation_id == done.answer.conversation_id


def test_stream_text_reads_to_the_end(client: Wisp, live):
    text = client.chat.stream({"chatbotId": live["chatbotId"], "message": "Returns?"}).text()
    assert text


def test_a_model_failing_mid_stream_raises_the_typed_error_after_the_chunks(client: Wisp, live):
    urllib.request.urlopen(urllib.request.Request(f"{live['controlUrl']}/model/die-mid-stream?after=2", method="POST"))
    chunks = []
    with pytest.raises(UnavailableError) as caught:
        for event in client.chat.stream({"chatbotId": live["chatbotId"], "message": "This answer will break"}):
            chunks.append(event)
    assert chunks and all(isinstance(e, ChatChunk) for e in chunks)
    assert caught.value.name == "UnavailableError" and caught.value.message

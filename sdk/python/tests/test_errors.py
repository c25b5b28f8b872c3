import socket
import time
import urllib.request
import uuid

import pytest

from wisp import APITimeoutError, UnavailableError, NotFoundError, RateLimitError, UnauthorizedError, ValidationError, Wisp


def test_errors_carry_the_envelope(client: Wisp):
    with pytest.raises(NotFoundError) as caught:
        client.chatbots.get("000000000000000000000000")
    error = caught.value
    assert (error.status, error.name) == (404, "NotFoundError")
    assert "no chatbot" in error.message.lower()
    assert error.request_id


def test_validation_errors_name_the_fields(client: Wisp):
    with pytest.raises(ValidationError) as caught:
        client.chatbots.create({"name": ""})
    assert caught.value.status == 422
    assert any(field["path"] == "name" for field in caught.value.details["fields"])


def test_a_wrong_key_is_unauthorized(live):
    with Wisp("sk_live_wrong", base_url=live["baseUrl"]) as wisp, pytest.raises(UnauthorizedError):
        wisp.usage.get()


def test_a_server_that_does_not_answer_times_out():
    # A listening socket that never answers: the connection opens, no response comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host, port = silent.getsockname()
        with Wisp("sk_live_x", base_url=f"http://{host}:{port}", timeout=0.2, max_retries=0) as wisp:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                wisp.usage.get()
            assert time.monotonic() - started < 5


def test_retries_a_429_after_the_retry_after_it_names(live):
    # This key may make one request a second, counted in fixed one-second windows: two calls that straddle a
    # window's edge both pass, so the test calls until one is refused (five quick calls land in one or two windows).
    caught = None
    with Wisp(live["limitedApiKey"], base_url=live["baseUrl"], max_retries=0) as strict:
        for _ in range(5):
            try:
                strict.usage.get()
            except RateLimitError as error:
                caught = error
                break
    assert caught is not None, "five quick calls were all accepted"
    assert caught.retry_after is not None and caught.retry_after >= 1
    assert caught.details["retryAfter"] >= 1
    with Wisp(live["limitedApiKey"], base_url=live["baseUrl"], max_retries=3) as patient:
        for _ in range(5):
            started = time.monotonic()
            assert patient.usage.get().plan == "pro"
            if patient._transport.retries_made >= 1:
                # The retried call waited for the window the 429 named.
                assert time.monotonic() - started >= 0.5
                break
        assert patient._transport.retries_made >= 1


def fail_next_model_calls(live, times: int) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{live['controlUrl']}/model/fail-next?times={times}", method="POST"))


def test_retries_a_503_and_the_idempotent_post_answers_once(live):
    fail_next_model_calls(live, 1)
    with Wisp(live["apiKey"], base_url=live["baseUrl"], max_retries=2) as wisp:
        answer = wisp.chat.send({"chatbotId": live["chatbotId"], "message": "Shipping?", "sessionId": f"py-503-{uuid.uuid4()}"})
        assert answer.response
        assert wisp._transport.retries_made == 1
        messages = list(wisp.conversations.list_messages(answer.conversation_id))
        assert [m.role for m in messages] == ["user", "assistant"]


def test_a_503_left_unretried_is_an_unavailable_error(live):
    fail_next_model_calls(live, 1)
    with Wisp(live["apiKey"], base_url=live["baseUrl"], max_retries=0) as wisp:
        with pytest.raises(UnavailableError) as caught:
            wisp.chat.send({"chatbotId": live["chatbotId"], "message": "Anyone?"})
    assert caught.value.status == 503
    assert caught.value.message

import time

import pytest

from wisp import APITimeoutError, NotFoundError, RateLimitError, UnauthorizedError, ValidationError, Wisp


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


def test_a_timeout_raises_without_waiting_longer(live):
    with Wisp(live["apiKey"], base_url=live["baseUrl"], timeout=0.000001, max_retries=0) as wisp:
        with pytest.raises(APITimeoutError):
            wisp.chatbots.list().pages().__next__()


def test_retries_a_429_after_the_retry_after_it_names(live):
    # This key may make one request a second.
    with Wisp(live["limitedApiKey"], base_url=live["baseUrl"], max_retries=0) as strict:
        strict.usage.get()
        with pytest.raises(RateLimitError) as caught:
            strict.usage.get()
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    assert caught.value.details["retryAfter"] >= 1
    with Wisp(live["limitedApiKey"], base_url=live["baseUrl"], max_retries=3) as patient:
        patient.usage.get()
        started = time.monotonic()
        assert patient.usage.get().plan == "pro"
        assert patient._transport.retries_made >= 1
        assert time.monotonic() - started >= 0.5

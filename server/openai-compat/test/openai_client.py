"""Talks to Wisp's OpenAI-compatible endpoint with the official `openai` Python package.

Reads WISP_BASE_URL (ending in /v1), WISP_API_KEY and WISP_MODEL; prints one JSON object with what it saw,
for the test that runs it to check.
"""
import json
import os

import openai

client = openai.OpenAI(base_url=os.environ["WISP_BASE_URL"], api_key=os.environ["WISP_API_KEY"], max_retries=0)
model = os.environ["WISP_MODEL"]

models = [m.id for m in client.models.list()]

completion = client.chat.completions.create(
    model=model,
    messages=[
        {"role": "user", "content": "Do you sell tents?"},
        {"role": "assistant", "content": "Yes."},
        {"role": "user", "content": "python json"},
    ],
    temperature=0.5,
    max_tokens=50,
)
extension = (completion.model_extra or {}).get("wisp", {})

stream = client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "python stream"}],
    stream=True,
    stream_options={"include_usage": True},
    extra_body={"conversation_id": extension.get("conversation_id")},
)
streamed = ""
finish_reason = None
stream_usage = None
stream_conversation = None
for chunk in stream:
    if chunk.choices:
        streamed += chunk.choices[0].delta.content or ""
        finish_reason = chunk.choices[0].finish_reason or finish_reason
        stream_conversation = (chunk.model_extra or {}).get("wisp", {}).get("conversation_id", stream_conversation)
    if chunk.usage:
        stream_usage = chunk.usage.total_tokens

try:
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], extra_body={"colour": "red"})
    unknown_field = None
except openai.APIStatusError as error:
    unknown_field = {"status": error.status_code, "body": error.body}

print(
    json.dumps(
        {
            "models": models,
            "content": completion.choices[0].message.content,
            "usage": completion.usage.total_tokens,
            "conversation_id": extension.get("conversation_id"),
            "confidence": extension.get("confidence"),
            "streamed": streamed,
            "finish_reason": finish_reason,
            "stream_usage": stream_usage,
            "stream_conversation_id": stream_conversation,
            "unknown_field": unknown_field,
        }
    )
)

from wisp import parse_sse


def test_skips_comments_and_joins_multi_line_data():
    stream = [": keep-alive\n\n", "data: first\ndata: second\n\n", "event: update\nid: 7\ndata:{}\n\n"]
    events = list(parse_sse(stream))
    assert [(e.event, e.data, e.id) for e in events] == [("message", "first\nsecond", None), ("update", "{}", "7")]


def test_handles_lines_split_across_chunks_and_every_line_ending():
    stream = ["da", "ta: a\r", "\ndata: b\r\r", "data: c\n", "\n", "data: unterminated"]
    assert [e.data for e in parse_sse(stream)] == ["a\nb", "c"]


def test_keeps_a_single_leading_space_rule_and_ignores_unknown_fields():
    events = list(parse_sse(["data:  two spaces\nfoo: bar\nretry: 1500\n\n"]))
    assert events[0].data == " two spaces"
    assert events[0].retry == 1500

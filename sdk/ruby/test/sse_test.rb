# frozen_string_literal: true

require_relative "test_helper"

class SSEParserTest < Minitest::Test
  def parse(*chunks)
    parser = Wisp::SSEParser.new
    events = []
    chunks.each { |chunk| parser.feed(chunk) { |e| events << e } }
    parser.finish { |e| events << e }
    events
  end

  def test_skips_comments_and_joins_multi_line_data
    events = parse(": keep-alive\n\n", "data: first\ndata: second\n\n", "event: update\nid: 7\ndata:{}\n\n")
    assert_equal [["message", "first\nsecond", nil], ["update", "{}", "7"]], events.map { |e| [e.event, e.data, e.id] }
  end

  def test_handles_lines_split_across_chunks_and_every_line_ending
    events = parse("da", "ta: a\r", "\ndata: b\r\r", "data: c\n", "\n", "data: unterminated")
    assert_equal ["a\nb", "c"], events.map(&:data)
  end
end

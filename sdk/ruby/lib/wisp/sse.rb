# frozen_string_literal: true

module Wisp
  # One Server-Sent Event.
  ServerSentEvent = Struct.new(:data, :event, :id, :retry, keyword_init: true)

  # Parses Server-Sent Events as the HTML standard defines them: lines end in CRLF, LF or CR, comments
  # (":...") are skipped, several data lines make one multi-line data, a blank line ends an event.
  # Feed text as it arrives with #feed (yields complete events); #finish flushes the last line.
  class SSEParser
    def initialize
      @pending = +""
      @data = []
      @event = nil
      @id = nil
      @retry = nil
    end

    def feed(text, &block)
      @pending << text
      while (cut = @pending.index(/[\r\n]/))
        # A CR at the very end may be the first half of a CRLF: wait for more.
        break if @pending[cut] == "\r" && cut == @pending.length - 1

        line = @pending[0...cut]
        skip = @pending[cut, 2] == "\r\n" ? 2 : 1
        @pending = @pending[(cut + skip)..]
        line(line, &block)
      end
    end

    def finish(&block)
      line(@pending.chomp("\r"), &block) unless @pending.empty?
      @pending = +""
    end

    private

    def line(line)
      if line.empty?
        yield ServerSentEvent.new(data: @data.join("\n"), event: @event || "message", id: @id, retry: @retry) unless @data.empty?
        @data = []
        @event = nil
        @retry = nil
        return
      end
      return if line.start_with?(":")

      field, value = line.split(":", 2)
      value = value.to_s.delete_prefix(" ")
      case field
      when "data" then @data << value
      when "event" then @event = value
      when "id" then @id = value unless value.include?("\0")
      when "retry" then @retry = Integer(value, exception: false) || @retry
      end
    end
  end
end

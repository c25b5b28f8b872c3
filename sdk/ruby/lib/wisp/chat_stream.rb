# frozen_string_literal: true

require "json"

module Wisp
  # A piece of the answer's text.
  ChatChunk = Struct.new(:text) do
    def type = :chunk
  end

  # The complete answer: the same fields as a JSON chat reply.
  ChatDone = Struct.new(:answer) do
    def type = :done
  end

  # The chat operations, plus #stream.
  class ChatResource < Resource
    # Streams a chat answer: `client.chat.stream({ "chatbotId" => id, "message" => "Hi" }).each { |event| ... }`.
    # Returns an Enumerator of ChatChunk and ChatDone; the request is made when the iteration starts.
    # Retries are safe because the message carries a clientMessageId (one is made when absent).
    # `chatbot:` (an id or slug) posts to that bot's own chat path.
    def stream(body, chatbot: nil, timeout: nil)
      payload = Wisp.with_message_id(body).merge("stream" => true)
      path = chatbot ? "/api/v1/chatbots/#{URI.encode_www_form_component(chatbot)}/chat" : "/api/v1/chat"
      client = @client
      Enumerator.new do |events|
        client.send_request(:post, path, body: payload, timeout: timeout) do |res|
          ChatStreamReader.new(res).each { |event| events << event }
        end
      end
    end
  end

  # Reads a streamed answer off the HTTP response.
  class ChatStreamReader
    def initialize(response)
      @response = response
    end

    def each
      parser = SSEParser.new
      catch(:done) do
        @response.read_body do |chunk|
          parser.feed(chunk.force_encoding(Encoding::UTF_8)) { |event| handle(event) { |e| yield e } }
        end
        parser.finish { |event| handle(event) { |e| yield e } }
      end
    end

    private

    def handle(event)
      throw :done if event.data == "[DONE]"

      payload = JSON.parse(event.data)
      if payload["error"]
        raise Wisp.error_from(@response.code.to_i, payload["error"], request_id: @response["x-request-id"])
      elsif payload.key?("chunk")
        yield ChatChunk.new(payload["chunk"])
      elsif payload["done"]
        yield ChatDone.new(payload)
      end
    end
  end
end

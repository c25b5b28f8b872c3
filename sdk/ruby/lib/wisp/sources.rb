# frozen_string_literal: true

require "json"
require "securerandom"

module Wisp
  # Knowledge sources, plus #upload for files.
  class SourcesResource < Resource
    # Adds a file (PDF, DOCX, Markdown, HTML or plain text; a path or an IO) as a source of the chatbot.
    def upload(chatbot_id, file, filename: nil, title: nil, idempotency_key: nil, timeout: nil)
      content = file.respond_to?(:read) ? file.read : File.binread(file)
      filename ||= if file.respond_to?(:path) then File.basename(file.path)
                   elsif file.respond_to?(:read) then "upload"
                   else File.basename(file.to_s)
                   end
      form = [["file", content, { filename: filename }]]
      form << ["title", title] if title
      path = "/api/v1/chatbots/#{URI.encode_www_form_component(chatbot_id)}/sources"
      @client.send_request(:post, path, form: form, idempotency_key: idempotency_key || SecureRandom.uuid,
                                        timeout: timeout) { |res| JSON.parse(res.body)["data"] }
    end
  end
end

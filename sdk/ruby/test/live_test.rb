# frozen_string_literal: true

require_relative "test_helper"
require "securerandom"
require "socket"

class LiveTest < Minitest::Test
  include LiveServer

  def test_chatbots_create_read_update_list_delete
    wisp = client
    created = wisp.chatbots.create({ "name" => "Ruby bot" })
    refute_empty created["identitySecret"]
    assert_equal "Be terse.", wisp.chatbots.update(created["id"], { "instructions" => "Be terse." })["instructions"]
    assert_includes wisp.chatbots.list(per_page: 1).map { |bot| bot["id"] }, created["id"]
    assert_equal true, wisp.chatbots.delete(created["id"])["deleted"]
    error = assert_raises(Wisp::NotFoundError) { wisp.chatbots.get(created["id"]) }
    assert_equal [404, "NotFoundError"], [error.status, error.name]
    assert_match(/no chatbot/i, error.api_message)
  end

  def test_list_pages_and_total
    listing = client.chatbots.list(per_page: 1)
    items = listing.to_a
    assert_equal listing.total, items.length
    assert(listing.each_page.all? { |page| page.length <= 1 })
  end

  def test_the_same_idempotency_key_creates_once
    key = "rb-#{SecureRandom.uuid}"
    first = client.chatbots.create({ "name" => "Once" }, idempotency_key: key)
    again = client.chatbots.create({ "name" => "Once" }, idempotency_key: key)
    assert_equal first["id"], again["id"]
  end

  def test_sources_usage_settings_and_leads
    wisp = client
    assert_equal "ready", wisp.sources.get(live["sourceId"])["status"]
    assert_match(/EU/, wisp.sources.list_chunks(live["sourceId"]).first["text"])
    added = wisp.sources.create(live["chatbotId"], { "type" => "text", "title" => "Hours", "content" => "Open 9 to 5." })
    assert_equal "queued", added["status"]
    assert_equal true, wisp.sources.delete(added["id"])["deleted"]
    uploaded = wisp.sources.upload(live["chatbotId"], StringIO.new("# Warranty\n\nTwo years.\n"), filename: "warranty.md", title: "Warranty")
    assert_equal %w[queued Warranty file], uploaded.values_at("status", "title", "type")
    assert_equal "free", wisp.usage.get["plan"]
    settings = wisp.widget_settings.update(live["chatbotId"], { "welcomeMessage" => "Hello from Ruby" })
    assert_equal "Hello from Ruby", settings["settings"]["welcomeMessage"]
    assert wisp.leads.export_csv(chatbot_id: live["chatbotId"]).start_with?("id,")
    assert_raises(ArgumentError) { wisp.leads.list(chatbot: "x") }
  end

  def test_chat_as_json_and_as_a_stream
    wisp = client
    answer = wisp.chat.send({ "chatbotId" => live["chatbotId"], "message" => "Shipping?" })
    refute_empty answer["response"]
    assert_equal %w[user assistant], wisp.conversations.list_messages(answer["conversationId"]).map { |m| m["role"] }
    events = wisp.chat.stream({ "message" => "Returns?" }, chatbot: live["chatbotSlug"]).to_a
    done = events.last
    assert_kind_of Wisp::ChatDone, done
    text = events.grep(Wisp::ChatChunk).map(&:text).join
    refute_empty text
    assert_equal done.answer["response"], text
  end

  def test_validation_errors_name_the_fields
    error = assert_raises(Wisp::ValidationError) { client.chatbots.create({ "name" => "" }) }
    assert_equal 422, error.status
    assert_equal "name", error.details["fields"].first["path"]
  end

  def test_a_server_that_does_not_answer_times_out
    # A listening socket that never answers: the connection opens, no response comes.
    silent = TCPServer.new("127.0.0.1", 0)
    wisp = Wisp::Client.new(api_key: "sk_live_x", base_url: "http://127.0.0.1:#{silent.addr[1]}", timeout: 0.2, max_retries: 0)
    assert_raises(Wisp::TimeoutError) { wisp.usage.get }
  ensure
    silent&.close
  end

  def test_retries_a_429_after_the_retry_after_it_names
    # This key may make one request a second, counted in fixed one-second windows: two calls that straddle a
    # window's edge both pass, so the test calls until one is refused (five quick calls land in one or two windows).
    strict = Wisp::Client.new(api_key: live["limitedApiKey"], base_url: live["baseUrl"], max_retries: 0)
    error = nil
    5.times do
      strict.usage.get
    rescue Wisp::RateLimitError => e
      error = e
      break
    end
    assert_kind_of Wisp::RateLimitError, error
    assert_operator error.retry_after, :>=, 1
    patient = Wisp::Client.new(api_key: live["limitedApiKey"], base_url: live["baseUrl"], max_retries: 3)
    5.times do
      assert_equal "pro", patient.usage.get["plan"]
      break if patient.retries_made >= 1
    end
    assert_operator patient.retries_made, :>=, 1
  end

  def fail_next_model_calls(times)
    Net::HTTP.post(URI("#{live["controlUrl"]}/model/fail-next?times=#{times}"), "")
  end

  def test_retries_a_503_and_the_idempotent_post_answers_once
    fail_next_model_calls(1)
    wisp = client(max_retries: 2)
    answer = wisp.chat.send({ "chatbotId" => live["chatbotId"], "message" => "Shipping?", "sessionId" => "rb-503-#{SecureRandom.hex(6)}" })
    refute_empty answer["response"]
    assert_equal 1, wisp.retries_made
    assert_equal 2, wisp.conversations.list_messages(answer["conversationId"]).count
  end

  def test_a_503_left_unretried_is_an_unavailable_error
    fail_next_model_calls(1)
    error = assert_raises(Wisp::UnavailableError) { client(max_retries: 0).chat.send({ "chatbotId" => live["chatbotId"], "message" => "Anyone?" }) }
    assert_equal 503, error.status
  end

  def test_a_model_failing_mid_stream_raises_the_typed_error_after_the_chunks
    Net::HTTP.post(URI("#{live["controlUrl"]}/model/die-mid-stream?after=2"), "")
    chunks = []
    error = assert_raises(Wisp::UnavailableError) do
      client.chat.stream({ "chatbotId" => live["chatbotId"], "message" => "This answer will break" }).each { |e| chunks << e }
    end
    refute_empty chunks
    assert(chunks.all?(Wisp::ChatChunk))
    assert_equal "UnavailableError", error.name
  end
end

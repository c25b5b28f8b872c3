# frozen_string_literal: true

require_relative "test_helper"

# The resources beyond chat and knowledge: webhooks and channels.
class OperationsTest < Minitest::Test
  include LiveServer

  # Nothing listens there: the URLs only have to be allowed (the harness allows loopback).
  TARGET = "http://127.0.0.1:9/rb-hooks"

  def test_webhooks_create_list_rotate_delete
    wisp = client
    created = wisp.webhooks.create({ "url" => TARGET, "events" => ["lead.created"], "description" => "Ruby SDK test" })
    refute_empty created["secret"]
    assert_equal true, created["enabled"]
    assert_includes wisp.webhooks.list.map { |hook| hook["id"] }, created["id"]
    rotated = wisp.webhooks.rotate_secret(created["id"])
    assert_equal created["id"], rotated["id"]
    refute_equal created["secret"], rotated["secret"]
    assert_equal true, wisp.webhooks.delete(created["id"])["deleted"]
    error = assert_raises(Wisp::NotFoundError) { wisp.webhooks.get(created["id"]) }
    assert_equal 404, error.status
  end

  def test_a_webhook_channel_is_created_and_listed
    wisp = client
    channel = wisp.channels.create(live["chatbotId"],
                                   { "type" => "webhook", "name" => "Ruby messenger", "callbackUrl" => "#{TARGET}/answers" })
    assert_equal %w[webhook Ruby\ messenger], [channel["type"], channel["name"]]
    refute_empty channel["inboundUrl"]
    refute_empty channel["signingSecret"]
    assert_includes wisp.channels.list(live["chatbotId"]).map { |c| c["id"] }, channel["id"]
    assert_equal "Messenger", wisp.channels.update(channel["id"], { "name" => "Messenger" })["name"]
    assert_equal true, wisp.channels.delete(channel["id"])["deleted"]
  end
end

# frozen_string_literal: true

require_relative "test_helper"

# The example delivery of the Standard Webhooks specification.
class WebhooksTest < Minitest::Test
  SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
  PAYLOAD = '{"test": 2432232314}'
  SENT_AT = Time.at(1_614_265_330)
  HEADERS = {
    "Webhook-Id" => "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "Webhook-Timestamp" => "1614265330",
    "Webhook-Signature" => "v1,bm90IGl0 v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
  }.freeze

  def test_accepts_a_valid_signature_among_others
    assert_equal({ "test" => 2_432_232_314 }, Wisp::Webhooks.verify(PAYLOAD, HEADERS, SECRET, now: SENT_AT + 60))
  end

  def test_refuses_a_changed_body
    assert_raises(Wisp::WebhookVerificationError) { Wisp::Webhooks.verify('{"test": 1}', HEADERS, SECRET, now: SENT_AT) }
  end

  def test_refuses_a_stale_timestamp
    assert_raises(Wisp::WebhookVerificationError) { Wisp::Webhooks.verify(PAYLOAD, HEADERS, SECRET, now: SENT_AT + 3600) }
  end

  def test_retry_delay_honours_retry_after
    assert_equal 2.0, Wisp::Client.retry_delay(0, "2")
    assert_includes 0.6..1.0, Wisp::Client.retry_delay(3, nil, base: 0.1)
  end
end

# frozen_string_literal: true

require "base64"
require "json"
require "openssl"

module Wisp
  # The delivery's signature, id or timestamp did not check out: do not trust its body.
  class WebhookVerificationError < Error; end

  # Verifies webhook deliveries signed the Standard Webhooks way: HMAC-SHA256 over
  # "webhook-id.webhook-timestamp.body" with the endpoint's `whsec_...` secret.
  module Webhooks
    TOLERANCE = 5 * 60

    # Checks the signature and the timestamp (5 minutes either way) and returns the parsed body.
    # `payload` must be the raw request body, byte for byte; header names may be in any case.
    def self.verify(payload, headers, secret, now: Time.now)
      h = headers.to_h { |k, v| [k.to_s.downcase, v.to_s] }
      id, timestamp, signatures = h.values_at("webhook-id", "webhook-timestamp", "webhook-signature")
      raise WebhookVerificationError, "missing webhook-id, webhook-timestamp or webhook-signature" if [id, timestamp, signatures].any? { |v| v.nil? || v.empty? }

      sent = Integer(timestamp, exception: false) or raise WebhookVerificationError, "the timestamp is not a number"
      raise WebhookVerificationError, "the timestamp is too old or too new" if (now.to_i - sent).abs > TOLERANCE

      key = Base64.strict_decode64(secret.delete_prefix("whsec_"))
      expected = Base64.strict_encode64(OpenSSL::HMAC.digest("SHA256", key, "#{id}.#{timestamp}.#{payload}"))
      matched = signatures.split(" ").any? do |signature|
        version, value = signature.split(",", 2)
        version == "v1" && value && OpenSSL.secure_compare(value, expected)
      end
      raise WebhookVerificationError, "no matching signature" unless matched

      JSON.parse(payload)
    end
  end
end

# frozen_string_literal: true

module Wisp
  # Base class of every error this library raises.
  class Error < StandardError; end

  # The request got no answer: the connection failed or was cut.
  class ConnectionError < Error; end

  # No answer within the timeout.
  class TimeoutError < ConnectionError; end

  # The API answered with an error envelope; carries its name, message and details, and the HTTP status.
  class APIError < Error
    attr_reader :status, :name, :details, :request_id, :headers

    def initialize(status:, name:, message:, details: nil, request_id: nil, headers: {})
      super("#{name} (#{status}): #{message}")
      @status = status
      @name = name
      @api_message = message
      @details = details
      @request_id = request_id
      @headers = headers
    end

    # The envelope's message (Exception#message also names the error and status).
    def api_message
      @api_message
    end

    # Seconds the server asked to wait (from Retry-After), or nil.
    def retry_after
      value = headers["retry-after"]
      value && Float(value, exception: false)
    end
  end

  NAMED_ERRORS = %w[
    BadRequestError UnauthorizedError ForbiddenError NotFoundError MethodNotAllowedError ConflictError
    PayloadTooLargeError UnsupportedMediaTypeError ValidationError IdempotencyError RateLimitError
    QuotaExceededError InternalError UnavailableError
  ].freeze

  # One class per error name the API answers: rescue Wisp::NotFoundError, Wisp::ValidationError, ...
  NAMED_ERRORS.each do |name|
    parent = name == "QuotaExceededError" ? const_get(:RateLimitError) : APIError
    const_set(name, Class.new(parent))
  end

  # The typed error for an envelope's `error` hash; an unknown name (a newer server) stays an APIError.
  def self.error_from(status, error, request_id: nil, headers: {})
    name = error["name"].to_s
    klass = NAMED_ERRORS.include?(name) ? const_get(name) : APIError
    klass.new(status: status, name: name, message: error["message"].to_s, details: error["details"],
              request_id: request_id, headers: headers)
  end
end

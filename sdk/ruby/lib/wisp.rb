# frozen_string_literal: true

require_relative "wisp/version"
require_relative "wisp/errors"
require_relative "wisp/operations"
require_relative "wisp/sse"
require_relative "wisp/client"
require_relative "wisp/chat_stream"
require_relative "wisp/sources"
require_relative "wisp/webhooks"

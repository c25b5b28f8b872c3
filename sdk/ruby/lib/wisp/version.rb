# frozen_string_literal: true

module Wisp
  VERSION = "0.1.0"
end

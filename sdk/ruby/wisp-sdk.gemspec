# frozen_string_literal: true

require_relative "lib/wisp/version"

Gem::Specification.new do |spec|
  spec.name = "wisp-sdk"
  spec.version = Wisp::VERSION
  spec.summary = "Ruby client of the Wisp API"
  spec.description = "Every resource of the Wisp REST API, streamed chat, pagination, retries with backoff, " \
                     "typed errors and webhook verification, on the standard library alone."
  spec.authors = ["Wisp"]
  spec.required_ruby_version = ">= 3.1"
  spec.files = Dir["lib/**/*.rb", "README.md"]
  spec.require_paths = ["lib"]
  spec.add_development_dependency "minitest", "~> 5.15"
  spec.metadata["rubygems_mfa_required"] = "true"
end

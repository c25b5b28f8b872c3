# frozen_string_literal: true

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "json"
require "minitest/autorun"
require "wisp"

# The server the harness (sdk/harness/start.ts) runs, from the file WISP_HARNESS names.
module LiveServer
  def live
    path = ENV["WISP_HARNESS"]
    skip "WISP_HARNESS is not set: run scripts/test-sdks.sh" if path.nil? || path.empty?
    @live ||= JSON.parse(File.read(path))
  end

  def client(**options)
    Wisp::Client.new(api_key: live["apiKey"], base_url: live["baseUrl"], timeout: 30, **options)
  end
end

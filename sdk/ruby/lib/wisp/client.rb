# frozen_string_literal: true

require "json"
require "net/http"
require "securerandom"
require "stringio"
require "time"
require "uri"

module Wisp
  # A client of the Wisp REST API. Every resource is a method: `client.chatbots.list.each { |bot| ... }`.
  class Client
    RETRY_STATUSES = [408, 429, 500, 502, 503, 504].freeze
    MAX_RETRY_DELAY = 60.0

    attr_reader :base_url, :retries_made

    # `api_key` and `base_url` default to WISP_API_KEY and WISP_BASE_URL. `timeout` (seconds) bounds each
    # attempt; `max_retries` retries 429/5xx answers and connection failures with exponential backoff,
    # waiting what Retry-After says when the server sends it.
    def initialize(api_key: ENV["WISP_API_KEY"], base_url: ENV["WISP_BASE_URL"] || "http://localhost:3000",
                   timeout: 60, max_retries: 2)
      @api_key = api_key
      @base_url = base_url.chomp("/")
      @timeout = timeout
      @max_retries = max_retries
      @retries_made = 0
      @resources = {}
    end

    OPERATIONS.each_key do |resource|
      define_method(resource) do
        klass = { chat: ChatResource, sources: SourcesResource }.fetch(resource, Resource)
        @resources[resource] ||= klass.new(self, resource, OPERATIONS[resource])
      end
    end

    # Sends the request (retrying as described above) and returns the envelope's data, or the body as text.
    def request(method, path, query: {}, body: nil, idempotency_key: nil, timeout: nil, text: false)
      idempotency_key ||= SecureRandom.uuid if method == :post
      send_request(method, path, query: query, body: body, idempotency_key: idempotency_key, timeout: timeout) do |res|
        return res.body.to_s if text

        JSON.parse(res.body)
      end
    end

    # Yields the successful response; its body is read only as the block asks (so streams stream).
    def send_request(method, path, query: {}, body: nil, form: nil, idempotency_key: nil, timeout: nil)
      uri = URI(base_url + path)
      params = query.compact.transform_values(&:to_s)
      uri.query = URI.encode_www_form(params) unless params.empty?
      attempt = 0
      loop do
        failure, retry_after = attempt_request(uri, method, body, form, idempotency_key, timeout || @timeout) do |res|
          return yield res
        end
        raise failure if attempt >= @max_retries

        sleep(self.class.retry_delay(attempt, retry_after))
        attempt += 1
        @retries_made += 1
      end
    end

    # Retry-After (seconds or an HTTP date) when the server sent it, else exponential backoff with jitter.
    def self.retry_delay(attempt, retry_after, base: 0.5)
      if retry_after
        seconds = Float(retry_after, exception: false) || ((Time.httpdate(retry_after) - Time.now) rescue base)
        return seconds.clamp(0.0, MAX_RETRY_DELAY)
      end
      [base * (2**attempt), MAX_RETRY_DELAY].min * (0.75 + (rand / 2))
    end

    private

    # Returns [failure, retry_after] when the attempt may be retried; raises when it may not.
    def attempt_request(uri, method, body, form, idempotency_key, timeout)
      request = Net::HTTP.const_get(method.to_s.capitalize).new(uri)
      request["User-Agent"] = "wisp-ruby/#{VERSION}"
      request["Accept"] = "application/json"
      request["Authorization"] = "Bearer #{@api_key}" if @api_key
      request["Idempotency-Key"] = idempotency_key if idempotency_key
      if body
        request["Content-Type"] = "application/json"
        request.body = JSON.generate(body)
      end
      # Fresh IOs on every attempt, so a retry sends the whole file again.
      request.set_form(form.map { |name, value, options| [name, options ? StringIO.new(value) : value, options].compact }, "multipart/form-data") if form
      http = Net::HTTP.new(uri.host, uri.port)
      http.use_ssl = uri.scheme == "https"
      http.open_timeout = http.read_timeout = http.write_timeout = timeout
      http.start do
        http.request(request) do |res|
          return yield(res) if res.code.to_i < 400

          error = error_from(res)
          raise error unless RETRY_STATUSES.include?(res.code.to_i) && !error.is_a?(QuotaExceededError)

          return [error, res["retry-after"]]
        end
      end
    rescue Net::OpenTimeout, Net::ReadTimeout, Net::WriteTimeout => e
      [TimeoutError.new("#{method.upcase} #{uri.path} timed out: #{e.message}"), nil]
    rescue SystemCallError, IOError, SocketError, OpenSSL::SSL::SSLError => e
      [ConnectionError.new("#{method.upcase} #{uri.path} failed: #{e.message}"), nil]
    end

    def error_from(res)
      headers = res.each_header.to_h
      error = begin
        JSON.parse(res.body.to_s)["error"]
      rescue JSON::ParserError
        nil
      end
      error ||= { "name" => "Error", "message" => res.message }
      Wisp.error_from(res.code.to_i, error, request_id: res["x-request-id"], headers: headers)
    end
  end

  # The body with a clientMessageId (made when absent): the server stores a message once per id, so a
  # retried send is not stored twice.
  def self.with_message_id(body)
    payload = body.transform_keys(&:to_s)
    payload["clientMessageId"] ||= "sdk-#{SecureRandom.uuid}"
    payload
  end

  # The operations of one resource, defined from the generated table (lib/wisp/operations.rb).
  class Resource
    def initialize(client, name, operations)
      @client = client
      @name = name
      operations.each { |op_name, op| define_operation(op_name, op) }
    end

    private

    def define_operation(op_name, op)
      client = @client
      define_singleton_method(op_name) do |*args, per_page: nil, idempotency_key: nil, timeout: nil, **query|
        ids = args.first(op[:path_params].length)
        raise ArgumentError, "#{@name}.#{op_name} needs #{op[:path_params].join(', ')}" if ids.length < op[:path_params].length

        body = args[op[:path_params].length]
        raise ArgumentError, "#{@name}.#{op_name} takes a body hash" if op[:body] && !body.is_a?(Hash)

        body = Wisp.with_message_id(body) if op[:message_id]

        unknown = query.keys - op[:query].keys
        raise ArgumentError, "#{@name}.#{op_name}: unknown parameters #{unknown.join(', ')}" unless unknown.empty?

        path = op[:path].gsub(/\{(\w+)\}/) { URI.encode_www_form_component(ids[op[:path_params].index(Regexp.last_match(1).to_sym)]) }
        params = query.to_h { |k, v| [op[:query][k], v] }
        if op[:paginated]
          Page.new(client, path, params, per_page, timeout)
        else
          result = client.request(op[:method], path, query: params, body: body, text: op[:text],
                                                     idempotency_key: idempotency_key, timeout: timeout)
          op[:text] ? result : result["data"]
        end
      end
    end
  end

  # Every item of a list, fetched a page at a time as the iteration reaches it. Enumerable, so
  # `.first(5)`, `.map`, `.lazy` work; `#total` is known after the first page.
  class Page
    include Enumerable

    attr_reader :total

    def initialize(client, path, query, per_page, timeout)
      @client = client
      @path = path
      @query = query
      @per_page = per_page
      @timeout = timeout
    end

    def each(&block)
      return enum_for(:each) unless block

      each_page { |items| items.each(&block) }
    end

    # Yields one array per page.
    def each_page
      return enum_for(:each_page) unless block_given?

      page = 1
      seen = 0
      loop do
        envelope = @client.request(:get, @path, query: @query.merge("page" => page, "perPage" => @per_page), timeout: @timeout)
        items = envelope["data"]
        @total = envelope.dig("meta", "total")
        seen += items.length
        yield items unless items.empty?
        break if items.empty? || (@total && seen >= @total)

        page += 1
      end
    end
  end
end

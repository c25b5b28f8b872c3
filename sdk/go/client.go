// Package wisp is a client of the Wisp REST API: every resource, streamed chat, pagination as an
// iterator, retries with exponential backoff that honour Retry-After, typed errors and webhook verification.
//
//	client := wisp.NewClient(os.Getenv("WISP_API_KEY"), wisp.WithBaseURL("https://wisp.example.com"))
//	for bot, err := range client.Chatbots.List(ctx, nil) { ... }
package wisp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Version is this SDK's version, sent in the User-Agent.
const Version = "0.1.0"

const maxRetryDelay = 60 * time.Second

// Client talks to one Wisp server with one API key. Its resource fields are safe for concurrent use.
type Client struct {
	services
	baseURL    string
	apiKey     string
	httpClient *http.Client
	timeout    time.Duration
	maxRetries int
	baseDelay  time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets the server's address (default http://localhost:3000).
func WithBaseURL(baseURL string) Option { return func(c *Client) { c.baseURL = trimSlash(baseURL) } }

// WithTimeout bounds each attempt of a request (default 60 s); a streamed chat is bounded by its context.
func WithTimeout(timeout time.Duration) Option { return func(c *Client) { c.timeout = timeout } }

// WithMaxRetries sets how often a 429/5xx answer or a connection failure is retried (default 2).
func WithMaxRetries(n int) Option { return func(c *Client) { c.maxRetries = n } }

// WithHTTPClient replaces the http.Client (for proxies or transports of your own).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.httpClient = h } }

// NewClient returns a client for apiKey (an `sk_live_...` key).
func NewClient(apiKey string, opts ...Option) *Client {
	c := &Client{
		baseURL:    "http://localhost:3000",
		apiKey:     apiKey,
		httpClient: &http.Client{},
		timeout:    60 * time.Second,
		maxRetries: 2,
		baseDelay:  500 * time.Millisecond,
	}
	for _, opt := range opts {
		opt(c)
	}
	c.services = newServices(c)
	return c
}

// CallOption changes one call.
type CallOption func(*callSettings)

type callSettings struct {
	idempotencyKey string
	timeout        time.Duration
}

// WithIdempotencyKey sets the POST's Idempotency-Key (one is generated otherwise, so retries are safe).
func WithIdempotencyKey(key string) CallOption {
	return func(s *callSettings) { s.idempotencyKey = key }
}

// WithCallTimeout bounds each attempt of this call instead of the client's timeout.
func WithCallTimeout(timeout time.Duration) CallOption {
	return func(s *callSettings) { s.timeout = timeout }
}

type call struct {
	method string
	path   string
	query  url.Values
	body   any
	// messageID makes the body carry a clientMessageId (one is made when unset): the server stores a
	// message once per id, so a retried send is not stored twice.
	messageID bool
	// raw is a body sent as is (a multipart upload), with its content type.
	raw         []byte
	contentType string
}

type envelope struct {
	Data  json.RawMessage `json:"data"`
	Error *ErrorBody      `json:"error"`
	Meta  *struct {
		Page    int `json:"page"`
		PerPage int `json:"perPage"`
		Total   int `json:"total"`
	} `json:"meta"`
}

// do sends the call and decodes the envelope's data into out (when out is not nil).
func (c *Client) do(ctx context.Context, req call, out any, opts []CallOption) error {
	res, cancel, err := c.send(ctx, req, opts, false)
	if err != nil {
		return err
	}
	defer cancel()
	defer res.Body.Close()
	var env envelope
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
		return fmt.Errorf("wisp: %s %s: reading the answer: %w", req.method, req.path, err)
	}
	if out == nil || len(env.Data) == 0 || string(env.Data) == "null" {
		return nil
	}
	return json.Unmarshal(env.Data, out)
}

// text sends the call and returns the body as text (CSV exports).
func (c *Client) text(ctx context.Context, req call, opts []CallOption) (string, error) {
	res, cancel, err := c.send(ctx, req, opts, false)
	if err != nil {
		return "", err
	}
	defer cancel()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return string(body), err
}

// send makes the request, retrying 429/5xx answers and connection failures with exponential backoff (or
// what Retry-After says). The caller closes the body and then calls cancel, which ends the attempt's timeout.
func (c *Client) send(ctx context.Context, req call, opts []CallOption, stream bool) (*http.Response, context.CancelFunc, error) {
	settings := callSettings{timeout: c.timeout}
	for _, opt := range opts {
		opt(&settings)
	}
	var payload []byte
	if req.body != nil {
		var err error
		if payload, err = encodeBody(req.body, req.messageID); err != nil {
			return nil, nil, fmt.Errorf("wisp: encoding the %s %s body: %w", req.method, req.path, err)
		}
	}
	contentType := "application/json"
	if req.raw != nil {
		payload, contentType = req.raw, req.contentType
	}
	if req.method == http.MethodPost && settings.idempotencyKey == "" && !stream {
		settings.idempotencyKey = randomID()
	}
	target := c.baseURL + req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	for attempt := 0; ; attempt++ {
		attemptCtx, cancel := ctx, context.CancelFunc(func() {})
		if settings.timeout > 0 && !stream {
			attemptCtx, cancel = context.WithTimeout(ctx, settings.timeout)
		}
		httpReq, err := http.NewRequestWithContext(attemptCtx, req.method, target, bytes.NewReader(payload))
		if err != nil {
			cancel()
			return nil, nil, err
		}
		httpReq.Header.Set("User-Agent", "wisp-go/"+Version)
		httpReq.Header.Set("Accept", "application/json")
		if c.apiKey != "" {
			httpReq.Header.Set("Authorization", "Bearer "+c.apiKey)
		}
		if payload != nil {
			httpReq.Header.Set("Content-Type", contentType)
		}
		if settings.idempotencyKey != "" {
			httpReq.Header.Set("Idempotency-Key", settings.idempotencyKey)
		}
		res, err := c.httpClient.Do(httpReq)
		var failure error
		retryAfter := ""
		switch {
		case err != nil:
			cancel()
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				failure = &TimeoutError{Method: req.method, Path: req.path, Err: err}
			} else {
				failure = &ConnectionError{Method: req.method, Path: req.path, Err: err}
			}
		case res.StatusCode < 400:
			return res, cancel, nil
		default:
			failure = readError(res)
			retryAfter = res.Header.Get("Retry-After")
			res.Body.Close()
			cancel()
			var apiErr *Error
			if errors.As(failure, &apiErr) && (!retryable(res.StatusCode) || apiErr.Name == "QuotaExceededError") {
				return nil, nil, failure
			}
		}
		if attempt >= c.maxRetries {
			return nil, nil, failure
		}
		select {
		case <-time.After(retryDelay(attempt, retryAfter, c.baseDelay)):
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

func encodeBody(body any, messageID bool) ([]byte, error) {
	payload, err := json.Marshal(body)
	if err != nil || !messageID {
		return payload, err
	}
	var fields map[string]any
	if err := json.Unmarshal(payload, &fields); err != nil {
		return nil, err
	}
	if _, ok := fields["clientMessageId"]; !ok {
		fields["clientMessageId"] = "sdk-" + randomID()
	}
	return json.Marshal(fields)
}

func retryable(status int) bool {
	return status == 408 || status == 429 || status >= 500 && status != 501
}

// retryDelay is what Retry-After says (seconds or an HTTP date) or else exponential backoff with jitter.
func retryDelay(attempt int, retryAfter string, base time.Duration) time.Duration {
	if retryAfter != "" {
		if seconds, err := strconv.ParseFloat(retryAfter, 64); err == nil {
			return min(max(time.Duration(seconds*float64(time.Second)), 0), maxRetryDelay)
		}
		if at, err := http.ParseTime(retryAfter); err == nil {
			return min(max(time.Until(at), 0), maxRetryDelay)
		}
	}
	backoff := min(time.Duration(float64(base)*math.Pow(2, float64(attempt))), maxRetryDelay)
	return time.Duration(float64(backoff) * (0.75 + mathrand.Float64()/2))
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// Ptr returns a pointer to v, for the optional fields of request models.
func Ptr[T any](v T) *T { return &v }

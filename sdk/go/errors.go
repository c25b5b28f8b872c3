package wisp

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Error is an error answer of the API: the envelope's name, message and details, with the HTTP status.
// Branch on Name (e.g. "NotFoundError", "ValidationError", "RateLimitError") or on Status.
type Error struct {
	Status    int
	Name      string
	Message   string
	Details   any
	RequestID string
	Header    http.Header
}

func (e *Error) Error() string { return fmt.Sprintf("wisp: %s (%d): %s", e.Name, e.Status, e.Message) }

// Is matches the sentinels below by name: errors.Is(err, wisp.ErrNotFound).
func (e *Error) Is(target error) bool {
	sentinel, ok := target.(*Error)
	return ok && sentinel.Status == 0 && sentinel.Name == e.Name
}

// Sentinels for errors.Is, one per error name the API answers.
var (
	ErrBadRequest       = &Error{Name: "BadRequestError"}
	ErrUnauthorized     = &Error{Name: "UnauthorizedError"}
	ErrForbidden        = &Error{Name: "ForbiddenError"}
	ErrNotFound         = &Error{Name: "NotFoundError"}
	ErrConflict         = &Error{Name: "ConflictError"}
	ErrPayloadTooLarge  = &Error{Name: "PayloadTooLargeError"}
	ErrValidation       = &Error{Name: "ValidationError"}
	ErrIdempotency      = &Error{Name: "IdempotencyError"}
	ErrRateLimit        = &Error{Name: "RateLimitError"}
	ErrQuotaExceeded    = &Error{Name: "QuotaExceededError"}
	ErrInternal         = &Error{Name: "InternalError"}
	ErrUnavailable      = &Error{Name: "UnavailableError"}
	ErrMethodNotAllowed = &Error{Name: "MethodNotAllowedError"}
	ErrUnsupportedMedia = &Error{Name: "UnsupportedMediaTypeError"}
)

// RetryAfter is how long the server asked to wait (from Retry-After), or 0.
func (e *Error) RetryAfter() time.Duration {
	seconds, err := strconv.ParseFloat(e.Header.Get("Retry-After"), 64)
	if err != nil {
		return 0
	}
	return time.Duration(seconds * float64(time.Second))
}

// FieldErrors lists a ValidationError's failing fields (path and message).
func (e *Error) FieldErrors() []FieldError {
	raw, _ := json.Marshal(e.Details)
	var details struct {
		Fields []FieldError `json:"fields"`
	}
	_ = json.Unmarshal(raw, &details)
	return details.Fields
}

// FieldError is one failing field of a ValidationError.
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ConnectionError is a request that got no answer: the connection failed or was cut.
type ConnectionError struct {
	Method, Path string
	Err          error
}

func (e *ConnectionError) Error() string {
	return fmt.Sprintf("wisp: %s %s: connection failed: %v", e.Method, e.Path, e.Err)
}
func (e *ConnectionError) Unwrap() error { return e.Err }

// TimeoutError is a request that got no answer within the timeout.
type TimeoutError struct {
	Method, Path string
	Err          error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("wisp: %s %s: timed out: %v", e.Method, e.Path, e.Err)
}
func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout reports true, as net.Error does.
func (e *TimeoutError) Timeout() bool { return true }

func readError(res *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	apiErr := &Error{Status: res.StatusCode, RequestID: res.Header.Get("X-Request-Id"), Header: res.Header}
	var env envelope
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		apiErr.Name, apiErr.Message, apiErr.Details = env.Error.Name, env.Error.Message, env.Error.Details
	} else {
		apiErr.Name, apiErr.Message = "Error", http.StatusText(res.StatusCode)
	}
	return apiErr
}

package wisp

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// The example delivery of the Standard Webhooks specification.
const (
	exampleSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	examplePayload   = `{"test": 2432232314}`
	exampleSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func exampleHeader(signature string) http.Header {
	h := http.Header{}
	h.Set("Webhook-Id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("Webhook-Timestamp", "1614265330")
	h.Set("Webhook-Signature", signature)
	return h
}

var sentAt = time.Unix(1614265330, 0)

func TestVerifyWebhookAcceptsAValidSignatureAmongOthers(t *testing.T) {
	header := exampleHeader("v1,bm90IGl0 " + exampleSignature)
	if err := verifyWebhookAt([]byte(examplePayload), header, exampleSecret, sentAt.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyWebhookRefusesAChangedBody(t *testing.T) {
	err := verifyWebhookAt([]byte(`{"test": 1}`), exampleHeader(exampleSignature), exampleSecret, sentAt)
	if !errors.Is(err, ErrWebhookVerification) {
		t.Fatalf("want ErrWebhookVerification, got %v", err)
	}
}

func TestVerifyWebhookRefusesAStaleTimestamp(t *testing.T) {
	err := verifyWebhookAt([]byte(examplePayload), exampleHeader(exampleSignature), exampleSecret, sentAt.Add(time.Hour))
	if !errors.Is(err, ErrWebhookVerification) {
		t.Fatalf("want ErrWebhookVerification, got %v", err)
	}
}

func TestRetryDelayHonoursRetryAfter(t *testing.T) {
	if got := retryDelay(0, "2", time.Millisecond); got != 2*time.Second {
		t.Fatalf("Retry-After 2 gave %v", got)
	}
	if got := retryDelay(3, "", 100*time.Millisecond); got < 600*time.Millisecond || got > time.Second {
		t.Fatalf("the fourth backoff of 100 ms gave %v", got)
	}
}

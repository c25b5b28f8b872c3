package wisp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrWebhookVerification is returned (wrapped) when a delivery's signature, id or timestamp does not check out.
var ErrWebhookVerification = errors.New("wisp: webhook verification failed")

// WebhookTolerance is how far a delivery's timestamp may be from now.
const WebhookTolerance = 5 * time.Minute

// VerifyWebhook checks a delivery signed the Standard Webhooks way: HMAC-SHA256 over
// "webhook-id.webhook-timestamp.body" with the endpoint's secret (`whsec_` + base64), compared in
// constant time with each `v1,` signature of the webhook-signature header. payload is the raw body.
func VerifyWebhook(payload []byte, header http.Header, secret string) error {
	return verifyWebhookAt(payload, header, secret, time.Now())
}

func verifyWebhookAt(payload []byte, header http.Header, secret string, now time.Time) error {
	id, timestamp, signatures := header.Get("Webhook-Id"), header.Get("Webhook-Timestamp"), header.Get("Webhook-Signature")
	if id == "" || timestamp == "" || signatures == "" {
		return errors.Join(ErrWebhookVerification, errors.New("missing webhook-id, webhook-timestamp or webhook-signature"))
	}
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.Join(ErrWebhookVerification, errors.New("the timestamp is not a number"))
	}
	if math.Abs(now.Sub(time.Unix(seconds, 0)).Seconds()) > WebhookTolerance.Seconds() {
		return errors.Join(ErrWebhookVerification, errors.New("the timestamp is too old or too new"))
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return errors.Join(ErrWebhookVerification, errors.New("the secret is not base64"))
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(payload)
	expected := mac.Sum(nil)
	for _, signature := range strings.Fields(signatures) {
		version, value, ok := strings.Cut(signature, ",")
		if !ok || version != "v1" {
			continue
		}
		if given, err := base64.StdEncoding.DecodeString(value); err == nil && hmac.Equal(given, expected) {
			return nil
		}
	}
	return errors.Join(ErrWebhookVerification, errors.New("no matching signature"))
}

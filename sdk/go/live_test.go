package wisp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	wisp "github.com/wisp-ai/wisp/sdk/go"
)

// live is what the harness (sdk/harness/start.ts) wrote about the server it runs; WISP_HARNESS names the file.
type live struct {
	BaseURL       string `json:"baseUrl"`
	APIKey        string `json:"apiKey"`
	ChatbotID     string `json:"chatbotId"`
	ChatbotSlug   string `json:"chatbotSlug"`
	SourceID      string `json:"sourceId"`
	LimitedAPIKey string `json:"limitedApiKey"`
	ControlURL    string `json:"controlUrl"`
}

func server(t *testing.T) (live, *wisp.Client) {
	t.Helper()
	path := os.Getenv("WISP_HARNESS")
	if path == "" {
		t.Skip("WISP_HARNESS is not set: run scripts/test-sdks.sh")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var l live
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatal(err)
	}
	return l, wisp.NewClient(l.APIKey, wisp.WithBaseURL(l.BaseURL), wisp.WithTimeout(30*time.Second))
}

func TestChatbotsCreateReadUpdateListDelete(t *testing.T) {
	_, client := server(t)
	ctx := context.Background()
	created, err := client.Chatbots.Create(ctx, wisp.ChatbotsCreateRequest{Name: "Go bot"})
	if err != nil {
		t.Fatal(err)
	}
	if created.IdentitySecret == "" {
		t.Fatal("no identity secret on creation")
	}
	updated, err := client.Chatbots.Update(ctx, created.Id, wisp.ChatbotsUpdateRequest{Instructions: wisp.Ptr("Be terse.")})
	if err != nil || updated.Instructions != "Be terse." {
		t.Fatalf("update: %v %+v", err, updated)
	}
	found := false
	for bot, err := range client.Chatbots.List(ctx, &wisp.ChatbotsListParams{PerPage: wisp.Ptr(1)}) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || bot.Id == created.Id
	}
	if !found {
		t.Fatal("the new bot is not listed when paging one by one")
	}
	if _, err := client.Chatbots.Delete(ctx, created.Id); err != nil {
		t.Fatal(err)
	}
	_, err = client.Chatbots.Get(ctx, created.Id)
	var apiErr *wisp.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 404 || !errors.Is(err, wisp.ErrNotFound) || apiErr.Message == "" {
		t.Fatalf("want a NotFoundError, got %v", err)
	}
}

func TestTheSameIdempotencyKeyCreatesOnce(t *testing.T) {
	_, client := server(t)
	ctx := context.Background()
	key := "go-" + time.Now().Format(time.RFC3339Nano)
	first, err := client.Chatbots.Create(ctx, wisp.ChatbotsCreateRequest{Name: "Once"}, wisp.WithIdempotencyKey(key))
	if err != nil {
		t.Fatal(err)
	}
	again, err := client.Chatbots.Create(ctx, wisp.ChatbotsCreateRequest{Name: "Once"}, wisp.WithIdempotencyKey(key))
	if err != nil || again.Id != first.Id {
		t.Fatalf("replay gave %v %+v", err, again)
	}
}

func TestKnowledgeSources(t *testing.T) {
	l, client := server(t)
	ctx := context.Background()
	source, err := client.Sources.Get(ctx, l.SourceID)
	if err != nil || source.Status != "ready" {
		t.Fatalf("source: %v %+v", err, source)
	}
	var chunks int
	for chunk, err := range client.Sources.ListChunks(ctx, l.SourceID, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(chunk.Text, "EU") {
			t.Fatalf("unexpected chunk %q", chunk.Text)
		}
		chunks++
	}
	if chunks == 0 {
		t.Fatal("no chunks")
	}
	var body wisp.SourcesCreateRequest
	if err := body.FromSourcesCreateRequest0(wisp.SourcesCreateRequest0{Type: "text", Title: "Hours", Content: "Open 9 to 5."}); err != nil {
		t.Fatal(err)
	}
	added, err := client.Sources.Create(ctx, l.ChatbotID, body)
	if err != nil || added.Status != "queued" {
		t.Fatalf("create: %v %+v", err, added)
	}
	if _, err := client.Sources.Delete(ctx, added.Id); err != nil {
		t.Fatal(err)
	}
	uploaded, err := client.Sources.Upload(ctx, l.ChatbotID, "warranty.md", []byte("# Warranty\n\nTwo years.\n"), "Warranty")
	if err != nil || uploaded.Status != "queued" || uploaded.Title != "Warranty" || uploaded.Type != "file" {
		t.Fatalf("upload: %v %+v", err, uploaded)
	}
}

func TestUsageKeysSettingsAndLeads(t *testing.T) {
	l, client := server(t)
	ctx := context.Background()
	usage, err := client.Usage.Get(ctx)
	if err != nil || usage.Plan != "free" {
		t.Fatalf("usage: %v %+v", err, usage)
	}
	key, err := client.ApiKeys.Create(ctx, wisp.ApiKeysCreateRequest{Name: "reader", Scopes: []wisp.ApiKeysCreateRequestScopes{"knowledge:read"}})
	if err != nil || !strings.HasPrefix(key.Key, "sk_live_") {
		t.Fatalf("key: %v", err)
	}
	if revoked, err := client.ApiKeys.Revoke(ctx, key.Id); err != nil || revoked.RevokedAt == nil {
		t.Fatalf("revoke: %v", err)
	}
	settings, err := client.WidgetSettings.Update(ctx, l.ChatbotID, wisp.WidgetSettingsUpdateRequest{WelcomeMessage: wisp.Ptr("Hello from Go")})
	if err != nil || settings.Settings.WelcomeMessage == nil || *settings.Settings.WelcomeMessage != "Hello from Go" {
		t.Fatalf("settings: %v", err)
	}
	csv, err := client.Leads.ExportCsv(ctx, &wisp.LeadsExportCsvParams{ChatbotID: wisp.Ptr(l.ChatbotID)})
	if err != nil || !strings.HasPrefix(csv, "id,") {
		t.Fatalf("export: %v %q", err, csv)
	}
}

func TestChatAnswersAsJSONAndAsAStream(t *testing.T) {
	l, client := server(t)
	ctx := context.Background()
	answer, err := client.Chat.Send(ctx, wisp.ChatSendRequest{ChatbotId: wisp.Ptr(l.ChatbotID), Message: "Shipping?"})
	if err != nil || answer.Response == "" {
		t.Fatalf("send: %v %+v", err, answer)
	}
	var roles []string
	for message, err := range client.Conversations.ListMessages(ctx, answer.ConversationId, nil) {
		if err != nil {
			t.Fatal(err)
		}
		roles = append(roles, string(message.Role))
	}
	if strings.Join(roles, ",") != "user,assistant" {
		t.Fatalf("messages %v", roles)
	}

	stream, err := client.Chat.StreamToChatbot(ctx, l.ChatbotSlug, wisp.ChatSendToChatbotRequest{Message: "Returns?"})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var done *wisp.ChatAnswer
	for event, err := range stream.Events() {
		if err != nil {
			t.Fatal(err)
		}
		if event.Type == "chunk" {
			text.WriteString(event.Text)
		} else {
			done = event.Answer
		}
	}
	if done == nil || text.Len() == 0 || text.String() != done.Response || stream.ConversationID != done.ConversationId {
		t.Fatalf("streamed %q, done %+v", text.String(), done)
	}
}

func TestValidationErrorsNameTheFields(t *testing.T) {
	_, client := server(t)
	_, err := client.Chatbots.Create(context.Background(), wisp.ChatbotsCreateRequest{Name: ""})
	var apiErr *wisp.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 422 || len(apiErr.FieldErrors()) == 0 || apiErr.FieldErrors()[0].Path != "name" {
		t.Fatalf("want a ValidationError naming name, got %v", err)
	}
}

func TestAServerThatDoesNotAnswerTimesOut(t *testing.T) {
	// A listening socket that never answers: the connection opens, no response comes.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	client := wisp.NewClient("sk_live_x", wisp.WithBaseURL("http://"+silent.Addr().String()),
		wisp.WithTimeout(200*time.Millisecond), wisp.WithMaxRetries(0))
	_, err = client.Usage.Get(context.Background())
	var timeout *wisp.TimeoutError
	if !errors.As(err, &timeout) {
		t.Fatalf("want a TimeoutError, got %v", err)
	}
}

func TestRetriesA429AfterTheRetryAfterItNames(t *testing.T) {
	l, _ := server(t)
	ctx := context.Background()
	// This key may make one request a second, counted in fixed one-second windows: two calls that straddle a
	// window's edge both pass, so the test calls until one is refused (five quick calls land in one or two windows).
	strict := wisp.NewClient(l.LimitedAPIKey, wisp.WithBaseURL(l.BaseURL), wisp.WithMaxRetries(0))
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		_, err = strict.Usage.Get(ctx)
	}
	var apiErr *wisp.Error
	if !errors.As(err, &apiErr) || apiErr.Name != "RateLimitError" || apiErr.RetryAfter() < time.Second {
		t.Fatalf("want a RateLimitError with Retry-After, got %v", err)
	}
	// Three calls in a row with retries allowed: at least one is refused and retried after the Retry-After.
	refusals := &refusalCounter{next: http.DefaultTransport}
	patient := wisp.NewClient(l.LimitedAPIKey, wisp.WithBaseURL(l.BaseURL), wisp.WithMaxRetries(3),
		wisp.WithHTTPClient(&http.Client{Transport: refusals}))
	for i := 0; i < 3; i++ {
		usage, err := patient.Usage.Get(ctx)
		if err != nil || usage.Plan != "pro" {
			t.Fatalf("the retried call failed: %v", err)
		}
	}
	if refusals.count == 0 {
		t.Fatal("no call was refused, so none was retried")
	}
	if refusals.waited < 500*time.Millisecond {
		t.Fatalf("the retry after a 429 came %v after it, before its Retry-After", refusals.waited)
	}
}

// refusalCounter counts the 429 answers passing through it and how long the request after the first one waited.
type refusalCounter struct {
	next      http.RoundTripper
	count     int
	refusedAt time.Time
	waited    time.Duration
}

func (r *refusalCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.count == 1 && r.waited == 0 {
		r.waited = time.Since(r.refusedAt)
	}
	res, err := r.next.RoundTrip(req)
	if err == nil && res.StatusCode == http.StatusTooManyRequests {
		r.count++
		if r.count == 1 {
			r.refusedAt = time.Now()
		}
	}
	return res, err
}

func failNextModelCalls(t *testing.T, l live, times int) {
	t.Helper()
	control(t, l, "/model/fail-next?times="+strconv.Itoa(times))
}

func control(t *testing.T, l live, path string) {
	t.Helper()
	res, err := http.Post(l.ControlURL+path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

func TestRetriesA503AndTheIdempotentPostAnswersOnce(t *testing.T) {
	l, client := server(t)
	ctx := context.Background()
	failNextModelCalls(t, l, 1)
	session := "go-503-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	answer, err := client.Chat.Send(ctx, wisp.ChatSendRequest{ChatbotId: wisp.Ptr(l.ChatbotID), Message: "Shipping?", SessionId: &session})
	if err != nil || answer.Response == "" {
		t.Fatalf("the retried chat failed: %v", err)
	}
	var count int
	for _, err := range client.Conversations.ListMessages(ctx, answer.ConversationId, nil) {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != 2 {
		t.Fatalf("want the question and one answer, got %d messages", count)
	}
}

func TestA503LeftUnretriedIsAnUnavailableError(t *testing.T) {
	l, _ := server(t)
	failNextModelCalls(t, l, 1)
	client := wisp.NewClient(l.APIKey, wisp.WithBaseURL(l.BaseURL), wisp.WithMaxRetries(0))
	_, err := client.Chat.Send(context.Background(), wisp.ChatSendRequest{ChatbotId: wisp.Ptr(l.ChatbotID), Message: "Anyone?"})
	var apiErr *wisp.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 503 || !errors.Is(err, wisp.ErrUnavailable) || errors.Is(err, wisp.ErrInternal) {
		t.Fatalf("want an UnavailableError, got %v", err)
	}
}

func TestAModelFailingMidStreamYieldsTheTypedErrorAfterTheChunks(t *testing.T) {
	l, client := server(t)
	control(t, l, "/model/die-mid-stream?after=2")
	stream, err := client.Chat.Stream(context.Background(), wisp.ChatSendRequest{ChatbotId: wisp.Ptr(l.ChatbotID), Message: "This answer will break"})
	if err != nil {
		t.Fatal(err)
	}
	chunks := 0
	var streamErr error
	for event, err := range stream.Events() {
		if err != nil {
			streamErr = err
			break
		}
		if event.Type == "chunk" {
			chunks++
		}
	}
	if chunks == 0 || !errors.Is(streamErr, wisp.ErrUnavailable) {
		t.Fatalf("want chunks then an UnavailableError, got %d chunks and %v", chunks, streamErr)
	}
}

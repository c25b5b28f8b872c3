package wisp_test

import (
	"context"
	"errors"
	"testing"

	wisp "github.com/wisp-ai/wisp/sdk/go"
)

func TestWebhooksCreateListRotateDelete(t *testing.T) {
	_, client := server(t)
	ctx := context.Background()
	// Nothing listens there: the URL only has to be allowed (the harness allows loopback).
	created, err := client.Webhooks.Create(ctx, wisp.WebhooksCreateRequest{
		Url:         "http://127.0.0.1:9/go-hooks",
		Events:      []wisp.WebhooksCreateRequestEvents{"lead.created"},
		Description: wisp.Ptr("Go SDK test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Secret == "" || !created.Enabled {
		t.Fatalf("created: %+v", created)
	}
	found := false
	for hook, err := range client.Webhooks.List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || hook.Id == created.Id
	}
	if !found {
		t.Fatal("the new webhook is not listed")
	}
	rotated, err := client.Webhooks.RotateSecret(ctx, created.Id)
	if err != nil || rotated.Id != created.Id || rotated.Secret == "" || rotated.Secret == created.Secret {
		t.Fatalf("rotate: %v %+v", err, rotated)
	}
	deleted, err := client.Webhooks.Delete(ctx, created.Id)
	if err != nil || deleted.Deleted != wisp.True {
		t.Fatalf("delete: %v %+v", err, deleted)
	}
	_, err = client.Webhooks.Get(ctx, created.Id)
	var apiErr *wisp.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 404 || !errors.Is(err, wisp.ErrNotFound) {
		t.Fatalf("a deleted webhook: %v", err)
	}
}

func TestAgentLoopsCreateAndList(t *testing.T) {
	l, client := server(t)
	ctx := context.Background()
	loop, err := client.AgentLoops.Create(ctx, wisp.AgentLoopsCreateRequest{
		Name:         "Go loop",
		ChatbotId:    l.ChatbotID,
		Instructions: "Summarise the input in one sentence.",
		Tools:        &[]string{"search_knowledge"},
		Enabled:      wisp.Ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if loop.Name != "Go loop" || loop.ChatbotId != l.ChatbotID || loop.Enabled {
		t.Fatalf("created: %+v", loop)
	}
	found := false
	for item, err := range client.AgentLoops.List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || item.Id == loop.Id
	}
	if !found {
		t.Fatal("the new agent loop is not listed")
	}
	if _, err := client.AgentLoops.Delete(ctx, loop.Id); err != nil {
		t.Fatal(err)
	}
}

package wisp_test

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"

	wisp "github.com/wisp-ai/wisp/sdk/go"
)

func collect(t *testing.T, r io.Reader) []wisp.SSEEvent {
	t.Helper()
	var events []wisp.SSEEvent
	for event, err := range wisp.ParseSSE(r) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, event)
	}
	return events
}

func TestParseSSESkipsCommentsAndJoinsMultiLineData(t *testing.T) {
	events := collect(t, strings.NewReader(": keep-alive\n\ndata: first\ndata: second\n\nevent: update\nid: 7\ndata:{}\n\n"))
	if len(events) != 2 || events[0].Data != "first\nsecond" || events[0].Event != "message" {
		t.Fatalf("unexpected events %#v", events)
	}
	if events[1].Event != "update" || events[1].ID != "7" || events[1].Data != "{}" {
		t.Fatalf("unexpected second event %#v", events[1])
	}
}

func TestParseSSEHandlesEveryLineEndingAcrossReads(t *testing.T) {
	// One byte per read, so every line ending is split from what follows it.
	r := iotest.OneByteReader(strings.NewReader("data: a\r\ndata: b\r\rdata: c\n\ndata: unterminated"))
	events := collect(t, r)
	if len(events) != 2 || events[0].Data != "a\nb" || events[1].Data != "c" {
		t.Fatalf("unexpected events %#v", events)
	}
}

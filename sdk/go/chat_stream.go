package wisp

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
)

// ChatEvent is one event of a streamed answer: Type "chunk" with Text, or "done" with the complete Answer.
type ChatEvent struct {
	Type   string
	Text   string
	Answer *ChatAnswer
}

// ChatStream is a streamed answer. Range over Events; Close releases the connection when leaving early.
type ChatStream struct {
	res    *http.Response
	cancel context.CancelFunc
	// ConversationID is the conversation the answer belongs to (known before the first token).
	ConversationID string
}

// Stream sends a chat message and streams the answer. Retries are safe: the message carries a
// ClientMessageId (one is made when unset), and the server stores a message once per id.
func (s *ChatService) Stream(ctx context.Context, body ChatSendRequest) (*ChatStream, error) {
	return s.client.stream(ctx, "/api/v1/chat", body)
}

// StreamToChatbot is Stream for the chatbot with this id or slug.
func (s *ChatService) StreamToChatbot(ctx context.Context, id string, body ChatSendToChatbotRequest) (*ChatStream, error) {
	return s.client.stream(ctx, "/api/v1/chatbots/"+url.PathEscape(id)+"/chat", body)
}

func (c *Client) stream(ctx context.Context, path string, body any) (*ChatStream, error) {
	raw, err := encodeBody(body, true)
	if err != nil {
		return nil, err
	}
	var payload map[string]any
	if err := json.Unmarshal(raw, &payload); err != nil {
		return nil, err
	}
	payload["stream"] = true
	res, cancel, err := c.send(ctx, call{method: http.MethodPost, path: path, body: payload}, nil, true)
	if err != nil {
		return nil, err
	}
	return &ChatStream{res: res, cancel: cancel, ConversationID: res.Header.Get("Wisp-Conversation-Id")}, nil
}

// Events yields the answer's events until the stream ends; an error event of the server arrives as an *Error.
func (s *ChatStream) Events() iter.Seq2[ChatEvent, error] {
	return func(yield func(ChatEvent, error) bool) {
		defer s.Close()
		for event, err := range ParseSSE(s.res.Body) {
			if err != nil {
				yield(ChatEvent{}, &ConnectionError{Method: "POST", Path: s.res.Request.URL.Path, Err: err})
				return
			}
			if event.Data == "[DONE]" {
				return
			}
			var payload struct {
				Chunk *string    `json:"chunk"`
				Done  bool       `json:"done"`
				Error *ErrorBody `json:"error"`
			}
			if err := json.Unmarshal([]byte(event.Data), &payload); err != nil {
				yield(ChatEvent{}, err)
				return
			}
			switch {
			case payload.Error != nil:
				yield(ChatEvent{}, &Error{Status: s.res.StatusCode, Name: payload.Error.Name, Message: payload.Error.Message,
					Details: payload.Error.Details, RequestID: s.res.Header.Get("X-Request-Id"), Header: s.res.Header})
				return
			case payload.Chunk != nil:
				if !yield(ChatEvent{Type: "chunk", Text: *payload.Chunk}, nil) {
					return
				}
			case payload.Done:
				answer := new(ChatAnswer)
				if err := json.Unmarshal([]byte(event.Data), answer); err != nil {
					yield(ChatEvent{}, err)
					return
				}
				if !yield(ChatEvent{Type: "done", Answer: answer}, nil) {
					return
				}
			}
		}
	}
}

// Close releases the connection; safe to call more than once.
func (s *ChatStream) Close() error {
	err := s.res.Body.Close()
	s.cancel()
	return err
}

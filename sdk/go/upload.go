package wisp

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
)

// Upload adds a file (PDF, DOCX, Markdown, HTML or plain text) as a source of the chatbot; it is queued and
// processed like any other source. title may be empty (the file's name or heading is used).
func (s *SourcesService) Upload(ctx context.Context, chatbotID, filename string, content []byte, title string, opts ...CallOption) (*KnowledgeSource, error) {
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	part, err := form.CreateFormFile("file", filename)
	if err != nil {
		return nil, err
	}
	if _, err := part.Write(content); err != nil {
		return nil, err
	}
	if title != "" {
		if err := form.WriteField("title", title); err != nil {
			return nil, err
		}
	}
	if err := form.Close(); err != nil {
		return nil, err
	}
	out := new(KnowledgeSource)
	req := call{method: http.MethodPost, path: "/api/v1/chatbots/" + url.PathEscape(chatbotID) + "/sources",
		raw: body.Bytes(), contentType: form.FormDataContentType()}
	if err := s.client.do(ctx, req, out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

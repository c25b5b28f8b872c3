package wisp

import (
	"bufio"
	"bytes"
	"io"
	"iter"
	"strconv"
	"strings"
)

// SSEEvent is one Server-Sent Event.
type SSEEvent struct {
	Event string // "message" unless the stream named it
	Data  string // the data lines joined by "\n"
	ID    string
	Retry int // milliseconds, 0 when not sent
}

// ParseSSE reads Server-Sent Events as the HTML standard defines them: lines end in CRLF, LF or CR,
// comments (":...") are skipped, several data lines make one multi-line data, a blank line ends an event.
func ParseSSE(r io.Reader) iter.Seq2[SSEEvent, error] {
	return func(yield func(SSEEvent, error) bool) {
		scanner := bufio.NewScanner(r)
		scanner.Buffer(make([]byte, 64*1024), 4*1024*1024)
		scanner.Split(splitLines)
		var data []string
		event := SSEEvent{}
		for scanner.Scan() {
			line := scanner.Text()
			if line == "" {
				if data != nil {
					event.Data = strings.Join(data, "\n")
					if event.Event == "" {
						event.Event = "message"
					}
					if !yield(event, nil) {
						return
					}
				}
				data, event = nil, SSEEvent{ID: event.ID}
				continue
			}
			if strings.HasPrefix(line, ":") {
				continue
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "data":
				data = append(data, value)
			case "event":
				event.Event = value
			case "id":
				if !strings.ContainsRune(value, 0) {
					event.ID = value
				}
			case "retry":
				if n, err := strconv.Atoi(value); err == nil {
					event.Retry = n
				}
			}
		}
		if err := scanner.Err(); err != nil {
			yield(SSEEvent{}, err)
		}
	}
}

// splitLines splits on CRLF, LF or CR; a CR at the end of the buffer waits for more to see if LF follows.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexAny(data, "\r\n")
	if i < 0 {
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	}
	if data[i] == '\n' {
		return i + 1, data[:i], nil
	}
	if i+1 < len(data) {
		if data[i+1] == '\n' {
			return i + 2, data[:i], nil
		}
		return i + 1, data[:i], nil
	}
	if atEOF {
		return i + 1, data[:i], nil
	}
	return 0, nil, nil
}

package wisp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// paginate yields every item of a list, fetching a page at a time as the loop reaches it.
func paginate[T any](ctx context.Context, c *Client, path string, query url.Values) func(yield func(T, error) bool) {
	return func(yield func(T, error) bool) {
		seen := 0
		for page := 1; ; page++ {
			q := url.Values{}
			for k, v := range query {
				q[k] = v
			}
			q.Set("page", strconv.Itoa(page))
			var items []T
			res, cancel, err := c.send(ctx, call{method: http.MethodGet, path: path, query: q}, nil, false)
			var env envelope
			if err == nil {
				err = json.NewDecoder(res.Body).Decode(&env)
				res.Body.Close()
				cancel()
			}
			if err == nil {
				err = json.Unmarshal(env.Data, &items)
			}
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range items {
				if !yield(item, nil) {
					return
				}
			}
			seen += len(items)
			if len(items) == 0 || env.Meta == nil || seen >= env.Meta.Total {
				return
			}
		}
	}
}

func setQuery[T any](v url.Values, name string, value *T) {
	if value != nil {
		v.Set(name, fmt.Sprint(*value))
	}
}

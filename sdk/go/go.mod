module github.com/wisp-ai/wisp/sdk/go

go 1.24

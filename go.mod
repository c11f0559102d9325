module github.com/offheap-go/offheap

go 1.24.0

require (
	github.com/dgraph-io/ristretto/v2 v2.4.2
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.41.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
)

module github.com/offheap-go/offheap

go 1.24.0

require (
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.41.0
)

require github.com/stretchr/testify v1.11.1 // indirect

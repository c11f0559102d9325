//go:build unix

package mapped

// Tests of TransferTo and TransferFrom inside the package: they force each
// tier through firstTier, watch which tier moved the bytes through
// tierDone, and empty the temporary-buffer cache (drainTempBuffers) before
// the package's leak check. They do not run in parallel: they change
// package variables and compare pool stats.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/offheap-go/offheap/directmem"
)

// xferTiers are the tiers, in order; on Linux each runs on its own when
// forced, elsewhere the kernel tier falls back to the mapped one.
var xferTiers = []tier{tierKernel, tierMapped, tierBuffer}

// xferSetup makes transfers start at tier first and returns the tiers
// that moved bytes, as they did; at the end of the test it restores the
// defaults, empties the temporary-buffer cache and checks that no mapping
// and no direct buffer is left.
func xferSetup(t *testing.T, first tier) *[]tier {
	t.Helper()
	mappedBefore := Stats().Count
	directBefore := directmem.Stats().Count - int64(len(tempCache))
	var mu sync.Mutex
	used := new([]tier)
	firstTier = first
	tierDone = func(tr tier, n int64) {
		mu.Lock()
		defer mu.Unlock()
		if k := len(*used); k == 0 || (*used)[k-1] != tr {
			*used = append(*used, tr)
		}
	}
	t.Cleanup(func() {
		firstTier, tierDone = tierKernel, nil
		drainTempBuffers()
		if got := Stats().Count; got != mappedBefore {
			t.Errorf("mapped pool: %d mappings after the test, %d before", got, mappedBefore)
		}
		if got := directmem.Stats().Count; got != directBefore {
			t.Errorf("direct pool: %d buffers after the test and the drain, %d before", got, directBefore)
		}
	})
	return used
}

// wantTier checks that the transfers of a test forced to start at want
// ran in want only (the kernel tier only on Linux).
func wantTier(t *testing.T, used []tier, want tier) {
	t.Helper()
	if want == tierKernel && !kernelTier {
		want = tierMapped
	}
	for _, u := range used {
		if u != want {
			t.Errorf("tiers used %v, want only %v", used, want)
			return
		}
	}
}

// xferFile creates a file holding data, opened with flag.
func xferFile(t *testing.T, data []byte, flag int) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func xferRandom(r *rand.Rand, n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n:n]
}

func xferOffset(t *testing.T, f *os.File) int64 {
	t.Helper()
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		t.Fatal(err)
	}
	return off
}

func xferContents(t *testing.T, f *os.File) []byte {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// xferTCP returns the two ends of a loopback TCP connection.
func xferTCP(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   *net.TCPConn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.AcceptTCP()
		ch <- res{c, err}
	}()
	client, err = net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		client.Close()
		t.Fatal(r.err)
	}
	t.Cleanup(func() { client.Close(); r.c.Close() })
	return client, r.c
}

// xferReadAll reads everything from r in a goroutine; wait returns it.
func xferReadAll(r io.Reader) (wait func() ([]byte, error)) {
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		b, err := io.ReadAll(r)
		ch <- res{b, err}
	}()
	return func() ([]byte, error) { r := <-ch; return r.b, r.err }
}

func TestTransferToFileEachTier(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	data := xferRandom(rnd, 3*mappedTransferSize/2+12345) // two chunks
	for _, tr := range xferTiers {
		t.Run(tr.String(), func(t *testing.T) {
			used := xferSetup(t, tr)
			src := xferFile(t, data, os.O_RDONLY)
			if _, err := src.Seek(77, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			dst := xferFile(t, []byte("head"), os.O_RDWR)
			if _, err := dst.Seek(4, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			const pos = 1001
			n, err := TransferTo(src, pos, int64(len(data)), dst)
			if err != nil || n != int64(len(data)-pos) {
				t.Fatalf("TransferTo = %d, %v; want %d, nil", n, err, len(data)-pos)
			}
			if off := xferOffset(t, src); off != 77 {
				t.Errorf("source offset moved to %d, want 77", off)
			}
			if off := xferOffset(t, dst); off != 4+n {
				t.Errorf("destination offset %d, want %d", off, 4+n)
			}
			if got := xferContents(t, dst); !bytes.Equal(got, append([]byte("head"), data[pos:]...)) {
				t.Errorf("destination holds %d bytes, not the source's", len(got))
			}
			wantTier(t, *used, tr)
		})
	}
}

func TestTransferToSocketAndPipeEachTier(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	data := xferRandom(rnd, 300<<10)
	for _, tr := range xferTiers {
		t.Run(tr.String(), func(t *testing.T) {
			used := xferSetup(t, tr)
			src := xferFile(t, data, os.O_RDONLY)

			client, server := xferTCP(t)
			wait := xferReadAll(server)
			n, err := TransferTo(src, 10, 1<<20, client)
			client.CloseWrite()
			got, rerr := wait()
			if err != nil || n != int64(len(data)-10) || rerr != nil || !bytes.Equal(got, data[10:]) {
				t.Fatalf("TransferTo TCP = %d, %v; peer read %d bytes, %v", n, err, len(got), rerr)
			}

			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			wait = xferReadAll(pr)
			n, err = TransferTo(src, 0, int64(len(data)), pw)
			pw.Close()
			got, rerr = wait()
			if err != nil || n != int64(len(data)) || rerr != nil || !bytes.Equal(got, data) {
				t.Fatalf("TransferTo pipe = %d, %v; peer read %d bytes, %v", n, err, len(got), rerr)
			}
			if off := xferOffset(t, src); off != 0 {
				t.Errorf("source offset moved to %d", off)
			}
			wantTier(t, *used, tr)
		})
	}
}

func TestTransferToUnixSocket(t *testing.T) {
	xferSetup(t, tierKernel)
	data := xferRandom(rand.New(rand.NewPCG(5, 6)), 100<<10)
	src := xferFile(t, data, os.O_RDONLY)
	fds, err := unixSocketpair()
	if err != nil {
		t.Skip("no socketpair:", err)
	}
	a, b := fds[0], fds[1]
	defer a.Close()
	defer b.Close()
	wait := xferReadAll(b)
	n, err := TransferTo(src, 0, int64(len(data)), a)
	a.CloseWrite()
	got, rerr := wait()
	if err != nil || n != int64(len(data)) || rerr != nil || !bytes.Equal(got, data) {
		t.Fatalf("TransferTo unix = %d, %v; peer read %d bytes, %v", n, err, len(got), rerr)
	}
}

// unixSocketpair returns two connected *net.UnixConn.
func unixSocketpair() ([2]*net.UnixConn, error) {
	dir, err := os.MkdirTemp("", "xfer")
	if err != nil {
		return [2]*net.UnixConn{}, err
	}
	defer os.RemoveAll(dir)
	addr := &net.UnixAddr{Name: filepath.Join(dir, "s"), Net: "unix"}
	ln, err := net.ListenUnix("unix", addr)
	if err != nil {
		return [2]*net.UnixConn{}, err
	}
	defer ln.Close()
	ch := make(chan *net.UnixConn, 1)
	go func() {
		c, _ := ln.AcceptUnix()
		ch <- c
	}()
	a, err := net.DialUnix("unix", nil, addr)
	if err != nil {
		<-ch
		return [2]*net.UnixConn{}, err
	}
	b := <-ch
	if b == nil {
		a.Close()
		return [2]*net.UnixConn{}, errors.New("accept failed")
	}
	return [2]*net.UnixConn{a, b}, nil
}

// onlyWriter hides every method but Write: an untrusted destination.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

func TestTransferToArbitraryWriterUsesBuffer(t *testing.T) {
	used := xferSetup(t, tierKernel)
	data := xferRandom(rand.New(rand.NewPCG(7, 8)), 50000)
	src := xferFile(t, data, os.O_RDONLY)
	var out bytes.Buffer
	n, err := TransferTo(src, 3, 1<<40, onlyWriter{&out})
	if err != nil || n != int64(len(data)-3) || !bytes.Equal(out.Bytes(), data[3:]) {
		t.Fatalf("TransferTo = %d, %v (%d bytes out)", n, err, out.Len())
	}
	wantTier(t, *used, tierBuffer)
	// A direct buffer is a Writer too (not trusted: its memory is ours).
	db, err := directmem.Allocate(len(data))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Free()
	if n, err := TransferTo(src, 0, int64(len(data)), db); err != nil || n != int64(len(data)) || !bytes.Equal(db.Bytes(), nil) {
		t.Fatalf("TransferTo direct buffer = %d, %v", n, err)
	}
	db.Flip()
	if !bytes.Equal(db.Bytes(), data) {
		t.Error("direct buffer holds other bytes")
	}
}

func TestTransferFromEachTier(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	data := xferRandom(rnd, 3*mappedTransferSize/2+999)
	for _, tr := range xferTiers {
		t.Run(tr.String(), func(t *testing.T) {
			used := xferSetup(t, tr)
			src := xferFile(t, data, os.O_RDONLY)
			if _, err := src.Seek(100, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			dst := xferFile(t, []byte("0123456789"), os.O_RDWR)
			if _, err := dst.Seek(3, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			// Past the end of dst: JDK 21 grows the file.
			const position = 4000
			want := int64(len(data) - 100 - 50)
			n, err := TransferFrom(src, dst, position, want)
			if err != nil || n != want {
				t.Fatalf("TransferFrom = %d, %v; want %d", n, err, want)
			}
			if off := xferOffset(t, src); off != 100+want {
				t.Errorf("source offset %d, want %d", off, 100+want)
			}
			if off := xferOffset(t, dst); off != 3 {
				t.Errorf("destination offset moved to %d", off)
			}
			got := xferContents(t, dst)
			exp := make([]byte, position+want)
			copy(exp, "0123456789")
			copy(exp[position:], data[100:100+want])
			if !bytes.Equal(got, exp) {
				t.Errorf("destination: %d bytes, not as expected (%d)", len(got), len(exp))
			}
			// The rest of the source, asking for more: cut to what is left.
			n, err = TransferFrom(src, dst, 0, 1<<40)
			if err != nil || n != 50 {
				t.Fatalf("TransferFrom of the tail = %d, %v; want 50", n, err)
			}
			// At its end: nothing.
			if n, err = TransferFrom(src, dst, 0, 10); n != 0 || err != nil {
				t.Errorf("TransferFrom at the source's end = %d, %v", n, err)
			}
			wantTier(t, *used, tr)
		})
	}
}

func TestTransferFromReader(t *testing.T) {
	used := xferSetup(t, tierKernel)
	data := xferRandom(rand.New(rand.NewPCG(11, 12)), 100000)
	dst := xferFile(t, nil, os.O_WRONLY)
	n, err := TransferFrom(bytes.NewReader(data), dst, 5, 1<<40)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("TransferFrom = %d, %v", n, err)
	}
	if got := xferContents(t, dst); !bytes.Equal(got[5:], data) || !bytes.Equal(got[:5], make([]byte, 5)) {
		t.Error("destination holds other bytes")
	}
	// Reads no more than count.
	r := bytes.NewReader(data)
	if n, err := TransferFrom(r, dst, 0, 10000); n != 10000 || err != nil || r.Len() != len(data)-10000 {
		t.Errorf("TransferFrom count 10000 = %d, %v, reader left %d", n, err, r.Len())
	}
	// A pipe is a reader.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	go func() { pw.Write(data[:30000]); pw.Close() }()
	if n, err := TransferFrom(pr, dst, 0, 1<<20); n != 30000 || err != nil {
		t.Errorf("TransferFrom pipe = %d, %v", n, err)
	}
	wantTier(t, *used, tierBuffer)
}

// stuckReader returns nothing, forever.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

// failingRW fails after n bytes.
type failingRW struct{ n int }

var errBoom = errors.New("boom")

func (f *failingRW) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errBoom
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func (f *failingRW) Write(p []byte) (int, error) {
	if f.n < len(p) {
		k := f.n
		f.n = 0
		return k, errBoom
	}
	f.n -= len(p)
	return len(p), nil
}

// shortWriter takes half and says nothing.
type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestTransferPartialAndFailures(t *testing.T) {
	xferSetup(t, tierKernel)
	data := xferRandom(rand.New(rand.NewPCG(13, 14)), 40000)
	src := xferFile(t, data, os.O_RDONLY)
	dst := xferFile(t, nil, os.O_RDWR)

	if n, err := TransferTo(src, 0, 40000, &failingRW{n: 20000}); n != 20000 || !errors.Is(err, errBoom) {
		t.Errorf("TransferTo failing writer = %d, %v; want 20000, boom", n, err)
	}
	if n, err := TransferTo(src, 0, 40000, shortWriter{}); n != 4096 || !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("TransferTo short writer = %d, %v; want 4096, ErrShortWrite", n, err)
	}
	if n, err := TransferFrom(&failingRW{n: 12345}, dst, 0, 40000); n != 12345 || !errors.Is(err, errBoom) {
		t.Errorf("TransferFrom failing reader = %d, %v; want 12345, boom", n, err)
	}
	if n, err := TransferFrom(stuckReader{}, dst, 0, 10); n != 0 || !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("TransferFrom stuck reader = %d, %v; want ErrNoProgress", n, err)
	}
}

func TestTransferBadInput(t *testing.T) {
	xferSetup(t, tierKernel)
	dir := t.TempDir()
	src := xferFile(t, []byte("some bytes"), os.O_RDONLY)
	dst := xferFile(t, []byte("x"), os.O_RDWR)
	wronly := xferFile(t, []byte("wronly"), os.O_WRONLY)
	rdonly := xferFile(t, []byte("rdonly"), os.O_RDONLY)
	appendF := xferFile(t, []byte("append"), os.O_WRONLY|os.O_APPEND)
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	closed := xferFile(t, []byte("closed"), os.O_RDWR)
	closed.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()

	var nilFile *os.File
	var nilConn *net.TCPConn
	toCases := []struct {
		name string
		src  *os.File
		pos  int64
		n    int64
		dst  io.Writer
		want error
	}{
		{"nil source", nil, 0, 1, dst, fs.ErrInvalid},
		{"nil writer", src, 0, 1, nil, fs.ErrInvalid},
		{"nil *os.File writer", src, 0, 1, nilFile, fs.ErrInvalid},
		{"nil *net.TCPConn writer", src, 0, 1, nilConn, fs.ErrInvalid},
		{"negative position", src, -1, 1, dst, fs.ErrInvalid},
		{"negative count", src, 0, -1, dst, fs.ErrInvalid},
		{"source write-only", wronly, 0, 1, dst, fs.ErrPermission},
		{"source a directory", d, 0, 1, dst, fs.ErrInvalid},
		{"source a pipe", pr, 0, 1, dst, fs.ErrInvalid},
		{"source closed", closed, 0, 1, dst, os.ErrClosed},
		{"destination read-only", src, 0, 1, rdonly, fs.ErrPermission},
		{"destination closed", src, 0, 1, closed, os.ErrClosed},
		{"destination a directory", src, 0, 1, d, fs.ErrInvalid},
	}
	for _, c := range toCases {
		n, err := TransferTo(c.src, c.pos, c.n, c.dst)
		var pe *fs.PathError
		if n != 0 || !errors.Is(err, c.want) || !errors.As(err, &pe) {
			t.Errorf("TransferTo %s = %d, %v; want 0, a *fs.PathError matching %v", c.name, n, err, c.want)
		}
	}
	fromCases := []struct {
		name string
		src  io.Reader
		dst  *os.File
		pos  int64
		n    int64
		want error
	}{
		{"nil destination", src, nil, 0, 1, fs.ErrInvalid},
		{"nil reader", nil, dst, 0, 1, fs.ErrInvalid},
		{"nil *os.File reader", nilFile, dst, 0, 1, fs.ErrInvalid},
		{"negative position", src, dst, -1, 1, fs.ErrInvalid},
		{"negative count", src, dst, 0, -1, fs.ErrInvalid},
		{"destination read-only", src, rdonly, 0, 1, fs.ErrPermission},
		{"destination a directory", src, d, 0, 1, fs.ErrInvalid},
		{"destination a pipe", src, pw, 0, 1, fs.ErrInvalid},
		{"destination O_APPEND", src, appendF, 0, 1, fs.ErrInvalid},
		{"destination closed", src, closed, 0, 1, os.ErrClosed},
		{"source write-only", wronly, dst, 0, 1, fs.ErrPermission},
		{"source a directory", d, dst, 0, 1, fs.ErrInvalid},
		{"source closed", closed, dst, 0, 1, os.ErrClosed},
	}
	for _, c := range fromCases {
		n, err := TransferFrom(c.src, c.dst, c.pos, c.n)
		var pe *fs.PathError
		if n != 0 || !errors.Is(err, c.want) || !errors.As(err, &pe) {
			t.Errorf("TransferFrom %s = %d, %v; want 0, a *fs.PathError matching %v", c.name, n, err, c.want)
		}
	}
	// Nothing was written anywhere.
	for _, f := range []*os.File{dst, wronly, appendF} {
		if fi, err := os.Stat(f.Name()); err != nil || fi.Size() > 6 {
			t.Errorf("%s changed: %v, %v", f.Name(), fi.Size(), err)
		}
	}
	// Position at or past the end, count 0: nothing, no error.
	for _, pos := range []int64{10, 11, 1 << 40} {
		if n, err := TransferTo(src, pos, 5, dst); n != 0 || err != nil {
			t.Errorf("TransferTo at %d = %d, %v; want 0, nil", pos, n, err)
		}
	}
	if n, err := TransferTo(src, 0, 0, dst); n != 0 || err != nil {
		t.Errorf("TransferTo count 0 = %d, %v", n, err)
	}
}

// TestTransferToNonBlockingSocketWaits fills a TCP connection that nobody
// reads until sendfile has said EAGAIN at least once: the transfer then
// waits on the poller (it does not spin, and does not fail) and finishes
// when the reader drains the socket.
func TestTransferToNonBlockingSocketWaits(t *testing.T) {
	if !kernelTier {
		t.Skip("no kernel tier here")
	}
	xferSetup(t, tierKernel)
	data := xferRandom(rand.New(rand.NewPCG(15, 16)), 2<<20)
	src := xferFile(t, data, os.O_RDONLY)
	client, server := xferTCP(t)
	client.SetWriteBuffer(16 << 10)
	server.SetReadBuffer(16 << 10)
	// Bounded: a transfer that never finishes fails the test, not hangs it.
	client.SetWriteDeadline(time.Now().Add(30 * time.Second))
	var once sync.Once
	again := make(chan struct{})
	var agains int
	sendfileAgain = func() { agains++; once.Do(func() { close(again) }) }
	defer func() { sendfileAgain = nil }()
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		<-again // the socket is full: read only now
		b, err := io.ReadAll(server)
		ch <- res{b, err}
	}()
	n, err := TransferTo(src, 0, int64(len(data)), client)
	client.CloseWrite()
	if err != nil || n != int64(len(data)) {
		once.Do(func() { close(again) })
		t.Fatalf("TransferTo = %d, %v", n, err)
	}
	r := <-ch
	if r.err != nil || !bytes.Equal(r.b, data) {
		t.Fatalf("peer read %d bytes, %v", len(r.b), r.err)
	}
	if agains == 0 {
		t.Error("sendfile never said EAGAIN")
	}
	t.Logf("sendfile waited %d times", agains)
}

// cancelWriter cancels a context on its first write.
type cancelWriter struct {
	cancel func()
	n      int
}

func (c *cancelWriter) Write(p []byte) (int, error) {
	c.cancel()
	c.n += len(p)
	return len(p), nil
}

func TestTransferContext(t *testing.T) {
	data := xferRandom(rand.New(rand.NewPCG(17, 18)), 2*mappedTransferSize+100)
	t.Run("cancelled before", func(t *testing.T) {
		xferSetup(t, tierKernel)
		src := xferFile(t, data[:1000], os.O_RDONLY)
		dst := xferFile(t, nil, os.O_RDWR)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if n, err := TransferToContext(ctx, src, 0, 1000, dst); n != 0 || err != context.Canceled {
			t.Errorf("TransferToContext = %d, %v", n, err)
		}
		if n, err := TransferFromContext(ctx, src, dst, 0, 1000); n != 0 || err != context.Canceled {
			t.Errorf("TransferFromContext = %d, %v", n, err)
		}
		if n, err := TransferFromContext(ctx, bytes.NewReader(data), dst, 0, 1000); n != 0 || err != context.Canceled {
			t.Errorf("TransferFromContext reader = %d, %v", n, err)
		}
	})
	t.Run("buffer tier between 8 KiB", func(t *testing.T) {
		xferSetup(t, tierBuffer)
		src := xferFile(t, data[:100000], os.O_RDONLY)
		ctx, cancel := context.WithCancel(context.Background())
		w := &cancelWriter{cancel: cancel}
		if n, err := TransferToContext(ctx, src, 0, 100000, w); n != tempBufferSize || err != context.Canceled {
			t.Errorf("TransferToContext = %d, %v; want %d, Canceled", n, err, tempBufferSize)
		}
		dst := xferFile(t, nil, os.O_RDWR)
		ctx, cancel = context.WithCancel(context.Background())
		defer cancel()
		r := io.TeeReader(bytes.NewReader(data), &cancelWriter{cancel: cancel})
		if n, err := TransferFromContext(ctx, r, dst, 0, 100000); n != tempBufferSize || err != context.Canceled {
			t.Errorf("TransferFromContext = %d, %v; want %d, Canceled", n, err, tempBufferSize)
		}
	})
	for _, tr := range xferTiers[:2] {
		t.Run(tr.String()+" between chunks", func(t *testing.T) {
			xferSetup(t, tr)
			src := xferFile(t, data, os.O_RDONLY)
			dst := xferFile(t, nil, os.O_RDWR)
			ctx, cancel := context.WithCancel(context.Background())
			tierDone = func(tier, int64) { cancel() }
			if n, err := TransferToContext(ctx, src, 0, int64(len(data)), dst); n != mappedTransferSize || err != context.Canceled {
				t.Errorf("TransferToContext = %d, %v; want one chunk, Canceled", n, err)
			}
			ctx, cancel = context.WithCancel(context.Background())
			defer cancel()
			if n, err := TransferFromContext(ctx, src, dst, 0, int64(len(data))); n != mappedTransferSize || err != context.Canceled {
				t.Errorf("TransferFromContext = %d, %v; want one chunk, Canceled", n, err)
			}
			if off := xferOffset(t, src); off != mappedTransferSize {
				t.Errorf("source offset %d after a cancelled TransferFrom, want %d", off, mappedTransferSize)
			}
		})
	}
}

func TestTransferTempBufferCache(t *testing.T) {
	xferSetup(t, tierBuffer)
	drainTempBuffers()
	before := directmem.Stats()
	data := xferRandom(rand.New(rand.NewPCG(19, 20)), 64<<10)
	src := xferFile(t, data, os.O_RDONLY)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			for j := 0; j < 5; j++ {
				out.Reset()
				n, err := TransferTo(src, 0, int64(len(data)), &out)
				if err != nil || n != int64(len(data)) || !bytes.Equal(out.Bytes(), data) {
					errs <- errors.Join(err, errors.New("wrong bytes"))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The cache keeps at most maxTempBuffers, counted in the "direct" pool.
	cached := len(tempCache)
	if cached == 0 || cached > maxTempBuffers {
		t.Errorf("%d cached temporary buffers, want 1 to %d", cached, maxTempBuffers)
	}
	if got := directmem.Stats().Count - before.Count; got != int64(cached) {
		t.Errorf("direct pool grew by %d buffers, %d cached", got, cached)
	}
	if n := drainTempBuffers(); n != cached {
		t.Errorf("drained %d, want %d", n, cached)
	}
	if got := directmem.Stats(); got.Count != before.Count {
		t.Errorf("direct pool after the drain: %+v, before %+v", got, before)
	}
}

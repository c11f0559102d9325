//go:build unix

// Command zerocopy serves one file over a loopback TCP connection in five
// ways and compares them: the classic "zero copy" comparison of
// read+write, mmap+write and sendfile, with this module's direct buffers,
// mappings and mapped.TransferTo in the roles the JVM's ByteBuffers and
// FileChannel.transferTo play.
//
//	heap      read(2) into a []byte on the Go heap, write(2) from it
//	direct    read(2) into a directmem buffer, write(2) from it
//	          (ReadFrom / Flip / WriteTo, as with a direct ByteBuffer)
//	mmap      mapped.Map of the whole file, one WriteTo the socket
//	transfer  mapped.TransferTo(file, 0, size, conn): sendfile(2)
//	iocopy    io.Copy(conn, file), the standard library's sendfile path
//	          (the reference the TransferTo target is set against)
//
// Usage:
//
//	go run ./examples/zerocopy -mode all -size 256MiB -md table.md -svg chart.svg
//	go run ./examples/zerocopy -quick
//
// The file (random bytes) is written to a temporary directory, synced and
// read so that it is in the page cache, and removed at the end. Each run
// starts the server as a child process (this program re-executed), so that
// the CPU time reported is the server's alone: the child calls
// getrusage(RUSAGE_SELF) right after it accepts the connection and right
// after it has written the last byte and closed the socket, and reports
// the difference (all of its threads; its start-up is not counted). The
// client is the parent process: it receives the whole file into a
// preallocated buffer (a streaming hash would make sha256, not the
// server, the bottleneck on a 2-core machine), stops the clock at the end
// of the stream, then checks the buffer's sha256 against the file's.
// Throughput is the file size over the client's time from connect to EOF.
// Each mode runs -runs times; the table shows the run of median
// throughput.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/offheap-go/offheap/directmem"
	"github.com/offheap-go/offheap/mapped"
)

// The environment of the child server process.
const (
	envServe = "ZEROCOPY_SERVE" // the mode to serve
	envFile  = "ZEROCOPY_FILE"
	envBuf   = "ZEROCOPY_BUF" // the heap/direct buffer size
)

// mode is one way of serving the file, with what the classic account
// ("the seed": issue 13) says it costs per transfer.
type mode struct {
	name, how string
	// userCopies is how many times each byte passes through user-space
	// memory: read into a buffer and written out of it counts 2; a write
	// from a mapping counts 1 (see copiesNote).
	userCopies int
	seed       string // copies / context switches, from the seed
}

var modes = []mode{
	{"heap", "read+write, []byte heap buffer", 2, "4 / 4"},
	{"direct", "read+write, directmem buffer", 2, "4 / 4"},
	{"mmap", "mapped.Map + write", 1, "3 / 4*"},
	{"transfer", "mapped.TransferTo (sendfile)", 0, "2-3 / 2"},
	{"iocopy", "io.Copy(*net.TCPConn, *os.File) (sendfile)", 0, "2-3 / 2"},
}

// result is one run of one mode.
type result struct {
	mode                mode
	size                int64
	elapsed             time.Duration // client: connect to EOF
	user, sys           time.Duration // server, from accept to close
	nvcsw, nivcsw       int64         // server's context switches, same window
	copied              int64         // bytes the server moved through user-space memory
	childUser, childSys time.Duration // the whole child process (os.ProcessState)
}

func (r result) mibps() float64 {
	return float64(r.size) / (1 << 20) / r.elapsed.Seconds()
}

func main() {
	if m := os.Getenv(envServe); m != "" {
		if err := serve(m, os.Getenv(envFile), os.Getenv(envBuf)); err != nil {
			log.Fatalf("zerocopy server (%s): %v", m, err)
		}
		return
	}
	log.SetFlags(0)
	modeFlag := flag.String("mode", "all", "heap|direct|mmap|transfer|iocopy|all, or a comma-separated list")
	sizeFlag := flag.String("size", "256MiB", "file size: bytes, or with a KiB/MiB/GiB suffix")
	mdFlag := flag.String("md", "", "write the results table as Markdown to this file")
	svgFlag := flag.String("svg", "", "write an SVG bar chart of throughput and server CPU to this file")
	quick := flag.Bool("quick", false, "a smoke run: an 8 MiB file, one run per mode")
	runs := flag.Int("runs", 3, "runs per mode; the run of median throughput is reported")
	bufFlag := flag.String("buf", "64KiB", "buffer size of the heap and direct modes")
	flag.Parse()

	size, err := parseSize(*sizeFlag)
	if err != nil {
		log.Fatalf("-size: %v", err)
	}
	bufSize, err := parseSize(*bufFlag)
	if err != nil || bufSize <= 0 || bufSize > 1<<30 {
		log.Fatalf("-buf: bad size %q", *bufFlag)
	}
	if *quick {
		size, *runs = 8<<20, 1
	}
	if size <= 0 {
		log.Fatalf("-size must be positive")
	}
	if *runs < 1 {
		*runs = 1
	}
	var chosen []mode
	if *modeFlag == "all" {
		chosen = modes
	} else {
		for _, name := range strings.Split(*modeFlag, ",") {
			i := slices.IndexFunc(modes, func(m mode) bool { return m.name == strings.TrimSpace(name) })
			if i < 0 {
				log.Fatalf("-mode: unknown mode %q", name)
			}
			chosen = append(chosen, modes[i])
		}
	}

	dir, err := os.MkdirTemp("", "zerocopy")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "served.bin")
	sum, err := writeFile(path, size)
	if err != nil {
		os.RemoveAll(dir)
		log.Fatal(err)
	}
	// The client's buffer, every page touched before the first run.
	recv := make([]byte, size)
	for i := 0; i < len(recv); i += 4096 {
		recv[i] = 1
	}

	fmt.Printf("file %s, %d MiB, sha256 %x; %d run(s) per mode, buffers %d KiB\n", path, size>>20, sum[:8], *runs, bufSize>>10)
	var results []result
	for _, m := range chosen {
		var rs []result
		for range *runs {
			r, err := runOnce(m, path, size, bufSize, recv, sum)
			if err != nil {
				os.RemoveAll(dir)
				log.Fatalf("%s: %v", m.name, err)
			}
			fmt.Printf("  %-8s %8.1f MiB/s  server user %.3fs sys %.3fs (whole child %.3fs/%.3fs)  ctx %d+%d  copied %d\n",
				m.name, r.mibps(), r.user.Seconds(), r.sys.Seconds(), r.childUser.Seconds(), r.childSys.Seconds(), r.nvcsw, r.nivcsw, r.copied)
			rs = append(rs, r)
		}
		slices.SortFunc(rs, func(a, b result) int { return cmp.Compare(a.elapsed, b.elapsed) })
		results = append(results, rs[len(rs)/2])
	}

	fmt.Println()
	table := markdown(results, size, bufSize)
	fmt.Print(table)
	if *mdFlag != "" {
		if err := os.WriteFile(*mdFlag, []byte(table), 0o644); err != nil {
			log.Print(err)
		}
	}
	if *svgFlag != "" {
		if err := os.WriteFile(*svgFlag, svgChart(results, size), 0o644); err != nil {
			log.Print(err)
		}
	}
}

// writeFile writes size random bytes to path, syncs them (so that
// write-back does not run under the measurements), reads the file back
// once (so that it is warm in the page cache) and returns its sha256.
func writeFile(path string, size int64) ([32]byte, error) {
	f, err := os.Create(path)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{13})
	h := sha256.New()
	chunk := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(chunk)) {
		c := chunk[:min(int64(len(chunk)), size-off)]
		rng.Read(c)
		h.Write(c)
		if _, err := f.Write(c); err != nil {
			return [32]byte{}, err
		}
	}
	if err := f.Sync(); err != nil {
		return [32]byte{}, err
	}
	if _, err := io.Copy(io.Discard, io.NewSectionReader(f, 0, size)); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h.Sum(nil)), nil
}

// runOnce starts a server child for m, downloads the file from it into
// recv and checks its hash.
func runOnce(m mode, path string, size, bufSize int64, recv []byte, want [32]byte) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envServe+"="+m.name, envFile+"="+path, envBuf+"="+strconv.FormatInt(bufSize, 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer cmd.Process.Kill() // a no-op once it has exited
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		return result{}, fmt.Errorf("server said nothing: %v", lines.Err())
	}
	addr, ok := strings.CutPrefix(lines.Text(), "addr ")
	if !ok {
		return result{}, fmt.Errorf("server said %q", lines.Text())
	}

	t0 := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return result{}, err
	}
	n, err := io.ReadFull(conn, recv[:size])
	if err != nil {
		conn.Close()
		return result{}, fmt.Errorf("received %d of %d bytes: %v", n, size, err)
	}
	var one [1]byte
	extra, eof := conn.Read(one[:])
	elapsed := time.Since(t0)
	conn.Close()
	if extra != 0 || eof != io.EOF {
		return result{}, fmt.Errorf("more than %d bytes, or no EOF: %d, %v", size, extra, eof)
	}
	if got := sha256.Sum256(recv[:size]); got != want {
		return result{}, fmt.Errorf("sha256 mismatch: got %x, want %x", got[:8], want[:8])
	}

	r := result{mode: m, size: size, elapsed: elapsed}
	if !lines.Scan() {
		return result{}, fmt.Errorf("server sent no usage: %v", lines.Err())
	}
	var uUS, sUS int64
	if _, err := fmt.Sscanf(lines.Text(), "usage %d %d %d %d %d", &uUS, &sUS, &r.nvcsw, &r.nivcsw, &r.copied); err != nil {
		return result{}, fmt.Errorf("server usage %q: %v", lines.Text(), err)
	}
	r.user, r.sys = time.Duration(uUS)*time.Microsecond, time.Duration(sUS)*time.Microsecond
	if err := cmd.Wait(); err != nil {
		return result{}, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.childUser = time.Duration(syscall.TimevalToNsec(ru.Utime))
		r.childSys = time.Duration(syscall.TimevalToNsec(ru.Stime))
	}
	return r, nil
}

// serve is the child: it listens on loopback, says where on stdout,
// serves the file to one connection in the given mode, and prints its
// CPU time and context switches over the transfer and the bytes it moved
// through user-space memory.
func serve(m, path, bufArg string) error {
	bufSize, err := strconv.Atoi(bufArg)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("addr %s\n", ln.Addr())
	c, err := ln.Accept()
	ln.Close()
	if err != nil {
		return err
	}
	conn := c.(*net.TCPConn)

	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	copied, n, err := send(m, f, size, conn, bufSize)
	if err == nil && n != size {
		err = fmt.Errorf("sent %d of %d bytes", n, size)
	}
	if cerr := conn.Close(); err == nil {
		err = cerr
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	if err != nil {
		return err
	}
	fmt.Printf("usage %d %d %d %d %d\n",
		(syscall.TimevalToNsec(ru1.Utime)-syscall.TimevalToNsec(ru0.Utime))/1e3,
		(syscall.TimevalToNsec(ru1.Stime)-syscall.TimevalToNsec(ru0.Stime))/1e3,
		ru1.Nvcsw-ru0.Nvcsw, ru1.Nivcsw-ru0.Nivcsw, copied)
	return nil
}

// send writes the file to conn in mode m and returns the bytes it moved
// through user-space memory and the bytes sent.
func send(m string, f *os.File, size int64, conn *net.TCPConn, bufSize int) (copied, sent int64, err error) {
	switch m {
	case "heap":
		buf := make([]byte, bufSize)
		for {
			n, rerr := f.Read(buf)
			copied += int64(n) // the kernel copied the page cache into buf
			if n > 0 {
				w, werr := conn.Write(buf[:n])
				copied += int64(w) // and copies buf into the socket buffer
				sent += int64(w)
				if werr != nil {
					return copied, sent, werr
				}
			}
			if rerr == io.EOF {
				return copied, sent, nil
			}
			if rerr != nil {
				return copied, sent, rerr
			}
		}

	case "direct":
		db, err := directmem.Allocate(bufSize)
		if err != nil {
			return 0, 0, err
		}
		defer db.Free()
		for {
			db.Clear()
			n, rerr := db.ReadFrom(f) // fills the buffer, or to EOF
			copied += n
			if rerr != nil && !errors.Is(rerr, directmem.ErrBufferOverflow) {
				return copied, sent, rerr
			}
			if n == 0 {
				return copied, sent, nil
			}
			db.Flip()
			w, werr := db.WriteTo(conn)
			copied += w
			sent += w
			if werr != nil {
				return copied, sent, werr
			}
		}

	case "mmap":
		mb, err := mapped.Map(f, mapped.ReadOnly, 0, size)
		if err != nil {
			return 0, 0, err
		}
		defer mb.Free()
		// write(2) from the mapping: the kernel copies the mapped pages
		// (the page cache itself) into the socket buffer.
		w, err := mb.WriteTo(conn)
		return w, w, err

	case "transfer":
		n, err := mapped.TransferTo(f, 0, size, conn)
		return 0, n, err

	case "iocopy":
		n, err := io.Copy(conn, f)
		return 0, n, err
	}
	return 0, 0, fmt.Errorf("unknown mode %q", m)
}

// parseSize reads "268435456", "256MiB", "1GiB", "64KiB" (or K, M, G).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	return n * mult, nil
}

// copiesNote explains the counts of the table.
const copiesNote = `"Bytes copied through user space" counts the bytes the server's own
memory took part in copying: heap and direct read each byte into a user
buffer (the kernel's copy_to_user) and write it out of it (copy_from_user):
2x the file. mmap reads nothing into user space, but write(2) takes its
bytes from user memory (the mapping of the page cache), so the kernel's copy
into the socket buffer goes through a user address: 1x. transfer and
iocopy use sendfile(2): the bytes never pass through a user address: 0.
The seed's columns are the classic per-transfer account (copies including
the DMA ones, user/kernel mode switches); * the seed gives mmap+write's 3
copies only, the 4 switches are those of its two system calls. The
measured context switches are the server process's (ru_nvcsw + ru_nivcsw:
voluntary, mostly waiting for a full socket buffer, + involuntary), a
different quantity from the seed's mode switches, which are one pair per
system call.`

func markdown(rs []result, size, bufSize int64) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "File of %d MiB in the page cache, served over loopback TCP to a client in another process; server CPU from getrusage in the server process, over the transfer. Heap and direct buffers of %d KiB.\n\n", size>>20, bufSize>>10)
	fmt.Fprintf(&b, "| mode | how | MiB/s | server user CPU (s) | server sys CPU (s) | bytes copied through user space | seed: copies / context switches | server context switches (vol+invol) |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---|---:|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.3f | %.3f | %s (%dx) | %s | %d+%d |\n",
			r.mode.name, r.mode.how, r.mibps(), r.user.Seconds(), r.sys.Seconds(),
			group(r.copied), r.mode.userCopies, r.mode.seed, r.nvcsw, r.nivcsw)
	}
	b.WriteString("\n")
	b.WriteString(copiesNote)
	b.WriteString("\n")
	return b.String()
}

// group writes n with thousands separators.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

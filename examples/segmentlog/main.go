// Command segmentlog is an append-only log of fixed-size segment files,
// the shape of a message queue's commit log (RocketMQ's CommitLog and
// MappedFile, Kafka's log segments), built on package mapped:
//
//   - appends go through a ReadWrite mapping of the active segment
//     (mapped.Map), with a Force every -force bytes and at each roll-over
//     to the next segment;
//   - reads go by global offset through a mapped.Cache of read-only windows
//     of the segments: Acquire the window, read, Release;
//   - a reader scans the whole log, checking every record, through a cache
//     far smaller than the log, and the program prints the append and read
//     throughput and the cache's hit rate.
//
// The files live in a temporary directory, removed at the end.
//
//	go run ./examples/segmentlog                        # 1 GiB through a 64 MiB cache
//	go run ./examples/segmentlog -quick                 # 64 MiB through 8 MiB
//	go run ./examples/segmentlog -total 4g -cache 256m
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/offheap-go/offheap/mapped"
)

// A record is a 4-byte big-endian length n, then n bytes: an 8-byte
// sequence number, a 4-byte CRC-32 of the rest, and the rest. A record
// never spans two segments: when the next one does not fit, the writer
// ends the segment with the length endOfSegment (if 4 bytes are left) and
// rolls over to the next, as RocketMQ's BLANK_MAGIC_CODE does.
const (
	headerLen    = 4
	minPayload   = 12
	endOfSegment = 0xFFFFFFFF
)

func main() {
	total := sizeFlag("total", 1<<30, "bytes of records to append and read back")
	cacheSize := sizeFlag("cache", 64<<20, "the read cache's MaxBytes")
	segSize := sizeFlag("segment", 64<<20, "size of a segment file")
	window := sizeFlag("window", 1<<20, "size of the cached read windows (a divisor of -segment)")
	forceEvery := sizeFlag("force", 16<<20, "Force the active segment every this many bytes appended")
	maxRecord := flag.Int("record", 4096, "largest record payload (random sizes from 12 bytes up)")
	quick := flag.Bool("quick", false, "a small run: -total 64m -cache 8m -segment 8m")
	flag.Parse()
	if *quick {
		*total, *cacheSize, *segSize = 64<<20, 8<<20, 8<<20
	}
	switch {
	case *window <= 0 || *segSize%*window != 0:
		log.Fatalf("-window %d must divide -segment %d", *window, *segSize)
	case *maxRecord < minPayload || int64(*maxRecord)+headerLen > *segSize:
		log.Fatalf("-record %d must be at least %d and fit in a segment", *maxRecord, minPayload)
	case *total <= 0 || *cacheSize <= 0 || *forceEvery <= 0:
		log.Fatal("-total, -cache and -force must be positive")
	}

	dir, err := os.MkdirTemp("", "segmentlog-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	fmt.Printf("segment log in %s: %s of records in %s segments, read through a %s cache of %s windows\n",
		dir, human(*total), human(*segSize), human(*cacheSize), human(*window))

	l := &segLog{dir: dir, segSize: *segSize, forceEvery: *forceEvery}
	records, err := appendAll(l, *total, *maxRecord)
	if err != nil {
		log.Fatal(err)
	}

	// The log is never rewritten, only appended to, so the cache may
	// trust a path to name the same file: no stat(2) per Acquire.
	cache, err := mapped.NewCache(mapped.CacheOptions{MaxBytes: *cacheSize, SkipStat: true})
	if err != nil {
		log.Fatal(err)
	}
	r := &reader{log: l, cache: cache, window: *window}
	err = scan(r, records)
	cache.Close()
	if err != nil {
		log.Fatal(err)
	}
	s := cache.Stats()
	fmt.Printf("cache: %d hits, %d misses (hit rate %.2f%%), %d evictions, %d rejections; %d mapped, %d unmapped\n",
		s.Hits, s.Misses, 100*float64(s.Hits)/float64(max(s.Hits+s.Misses, 1)), s.Evictions, s.Rejections, s.Maps, s.Unmaps)
	if s.Maps != s.Unmaps || s.LiveLeases != 0 {
		log.Fatalf("a mapping outlived the cache: %+v", s)
	}
	if ms := mapped.Stats(); ms.Count != 0 {
		log.Fatalf("mappings left: %+v", ms)
	}
}

// segLog is the log: segment files named by their first global offset, as
// RocketMQ's and Kafka's are.
type segLog struct {
	dir        string
	segSize    int64
	forceEvery int64

	active   *mapped.Buffer // the active segment, mapped ReadWrite
	activeNo int64
	pos      int64 // the next append's position in the active segment
	end      int64 // the global offset after the last record
	unforced int64
}

func (l *segLog) path(seg int64) string {
	return filepath.Join(l.dir, fmt.Sprintf("%020d", seg*l.segSize))
}

// roll ends the active segment (its end marker, a Force, unmapping) and
// maps the next one.
func (l *segLog) roll() error {
	if l.active != nil {
		if l.segSize-l.pos >= headerLen {
			if err := l.active.PutUint32At(int(l.pos), endOfSegment); err != nil {
				return err
			}
		}
		if err := l.close(); err != nil {
			return err
		}
		l.activeNo++
	}
	f, err := os.OpenFile(l.path(l.activeNo), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	// ReadWrite extends the new file to the segment size (sparse).
	if l.active, err = mapped.Map(f, mapped.ReadWrite, 0, l.segSize); err != nil {
		return err
	}
	l.pos = 0
	l.end = l.activeNo * l.segSize
	return nil
}

// append writes one record and returns its global offset.
func (l *segLog) append(payload []byte) (int64, error) {
	n := int64(headerLen + len(payload))
	if l.active == nil || l.pos+n > l.segSize {
		if err := l.roll(); err != nil {
			return 0, err
		}
	}
	off := l.activeNo*l.segSize + l.pos
	if err := l.active.PutUint32At(int(l.pos), uint32(len(payload))); err != nil {
		return 0, err
	}
	if err := l.active.PutBytesAt(int(l.pos)+headerLen, payload); err != nil {
		return 0, err
	}
	l.pos += n
	l.end = off + n
	if l.unforced += n; l.unforced >= l.forceEvery {
		// Flushes the whole segment's dirty pages: the periodic flush of a
		// queue's "flush disk" thread.
		if err := l.active.Force(); err != nil {
			return 0, err
		}
		l.unforced = 0
	}
	return off, nil
}

// close forces and unmaps the active segment.
func (l *segLog) close() error {
	if l.active == nil {
		return nil
	}
	err := l.active.Force()
	l.active.Free()
	l.active = nil
	l.unforced = 0
	return err
}

// appendAll appends records of random sizes until total bytes are written
// and returns how many.
func appendAll(l *segLog, total int64, maxRecord int) (int64, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	payload := make([]byte, maxRecord)
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	start := time.Now()
	p := newProgress("append", total)
	var seq int64
	for l.end < total {
		n := minPayload + rng.IntN(maxRecord-minPayload+1)
		rec := payload[:n]
		binary.BigEndian.PutUint64(rec, uint64(seq))
		// Vary the body with the sequence number, cheaply.
		if n > 12 {
			rec[12] ^= byte(seq)
		}
		binary.BigEndian.PutUint32(rec[8:], crc32.ChecksumIEEE(rec[12:]))
		if _, err := l.append(rec); err != nil {
			return 0, fmt.Errorf("append record %d: %w", seq, err)
		}
		if n > 12 {
			rec[12] ^= byte(seq)
		}
		seq++
		p.update(l.end)
	}
	if err := l.close(); err != nil {
		return 0, err
	}
	p.done(l.end, fmt.Sprintf("%d records in %d segments", seq, l.activeNo+1), time.Since(start))
	return seq, nil
}

// reader reads the log by global offset through the cache.
type reader struct {
	log    *segLog
	cache  *mapped.Cache
	window int64
}

// readAt reads len(dst) bytes at the global offset off, window by window:
// for each, Acquire the window's lease, copy, Release.
func (r *reader) readAt(dst []byte, off int64) error {
	for len(dst) > 0 {
		seg, pos := off/r.log.segSize, off%r.log.segSize
		wStart := pos - pos%r.window
		n := min(int64(len(dst)), wStart+r.window-pos)
		lease, err := r.cache.Acquire(r.log.path(seg), mapped.ReadOnly, wStart, r.window)
		if err != nil {
			return err
		}
		err = lease.Buffer().GetBytesAt(int(pos-wStart), dst[:n])
		lease.Release()
		if err != nil {
			return fmt.Errorf("read %d bytes at %d: %w", n, off, err)
		}
		dst, off = dst[n:], off+n
	}
	return nil
}

// scan reads every record from offset 0, checking its sequence number and
// CRC.
func scan(r *reader, records int64) error {
	start := time.Now()
	p := newProgress("read", r.log.end)
	var hdr [headerLen]byte
	buf := make([]byte, 0, 64<<10)
	off := int64(0)
	var seq int64
	for off < r.log.end {
		if r.log.segSize-off%r.log.segSize < headerLen {
			off += r.log.segSize - off%r.log.segSize
			continue
		}
		if err := r.readAt(hdr[:], off); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == endOfSegment {
			off += r.log.segSize - off%r.log.segSize
			continue
		}
		if n < minPayload || int64(n) > r.log.segSize {
			return fmt.Errorf("record %d at %d: bad length %d", seq, off, n)
		}
		rec := buf[:n]
		if err := r.readAt(rec, off+headerLen); err != nil {
			return err
		}
		if got := int64(binary.BigEndian.Uint64(rec)); got != seq {
			return fmt.Errorf("record at %d: sequence %d, want %d", off, got, seq)
		}
		if crc32.ChecksumIEEE(rec[12:]) != binary.BigEndian.Uint32(rec[8:]) {
			return fmt.Errorf("record %d at %d: bad CRC", seq, off)
		}
		off += headerLen + int64(n)
		seq++
		p.update(off)
	}
	if seq != records {
		return fmt.Errorf("read %d records, appended %d", seq, records)
	}
	p.done(off, fmt.Sprintf("%d records checked", seq), time.Since(start))
	return nil
}

// progress prints a line, rewritten in place about twice a second.
type progress struct {
	what  string
	total int64
	start time.Time
	next  time.Time
	calls int
}

func newProgress(what string, total int64) *progress {
	now := time.Now()
	return &progress{what: what, total: total, start: now, next: now.Add(500 * time.Millisecond)}
}

func (p *progress) update(n int64) {
	if p.calls++; p.calls%256 != 0 {
		return
	}
	if now := time.Now(); now.After(p.next) {
		p.next = now.Add(500 * time.Millisecond)
		fmt.Printf("\r  %-6s %9s / %-9s %5.1f%%  %s/s   ", p.what, human(n), human(p.total),
			100*float64(n)/float64(p.total), human(int64(float64(n)/now.Sub(p.start).Seconds())))
	}
}

func (p *progress) done(n int64, detail string, d time.Duration) {
	fmt.Printf("\r%-70s\r", "")
	fmt.Printf("%-6s %s in %v: %s/s (%s)\n", p.what, human(n), d.Round(time.Millisecond),
		human(int64(float64(n)/d.Seconds())), detail)
}

// sizeFlag defines a flag taking a size in bytes with an optional k, m or
// g suffix (powers of 1024).
func sizeFlag(name string, def int64, usage string) *int64 {
	v := def
	flag.Func(name, usage+" (default "+human(def)+"; k, m, g suffixes)", func(s string) error {
		n, err := parseSize(s)
		v = n
		return err
	})
	return &v
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToLower(s[len(s)-min(len(s), 1):]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, errors.New("want a size such as 4096, 64k, 64m or 1g")
	}
	return n * mult, nil
}

func human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

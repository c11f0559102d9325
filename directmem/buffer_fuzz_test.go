package directmem_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/offheap-go/offheap/directmem"
)

// FuzzBufferOps decodes its input as a capacity and a sequence of
// operations, applies each to a Buffer (and its views) and to a model made
// of a plain []byte with java.nio's cursor rules written out independently,
// and after every operation compares the results, the errors (by
// sentinel), the indexes of every view, and the bytes.
//
// Input: byte 0 is the capacity (mod 65); then each operation is one byte
// (mod the number of operations) followed by its arguments. Integers are
// one byte read as int8, with -128 and 127 standing for math.MinInt and
// math.MaxInt; lengths are one byte mod 80.
func FuzzBufferOps(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runBufferOps(t, data)
	})
}

// The operations, in the order their numbers decode.
const (
	opSetPosition = iota
	opSetLimit
	opMark
	opReset
	opFlip
	opClear
	opRewind
	opCompact
	opGet
	opPut
	opGetAt
	opPutAt
	opTypedGet
	opTypedPut
	opTypedGetAt
	opTypedPutAt
	opGetBytes
	opPutBytes
	opGetBytesAt
	opPutBytesAt
	opSlice
	opSliceAt
	opDuplicate
	opAsReadOnly
	opRead
	opWrite
	opWriteString
	opReadAt
	opWriteAt
	opReadByte
	opWriteByte
	opReadFrom
	opWriteTo
	opSetOrder
	opSelect
	opPutBuffer
	opEqualCompare
	opFree
	numOps
)

// fuzzSeeds exercise every operation; testdata/fuzz/FuzzBufferOps holds more.
var fuzzSeeds = [][]byte{
	{16, opPut, 1, opPut, 2, opTypedPut, 2, 1, 2, 3, 4, 5, 6, 7, 8, opFlip, opGet, opTypedGet, 2, opGet, opGet},
	{16, opSetLimit, 10, opSetPosition, 4, opMark, opSetPosition, 8, opReset, opSetPosition, 2, opReset, opCompact, opRewind, opClear},
	{32, opSetOrder, 1, opTypedPutAt, 6, 3, 0xFF, 0xF4, 0, 0, 0, 0, 0, 1, opTypedGetAt, 7, 3, opTypedGetAt, 7, 0x7F, opTypedGetAt, 0, 31},
	{24, opPutBytes, 5, 'h', 'e', 'l', 'l', 'o', opSlice, opSelect, 1, opPutBytes, 3, 'a', 'b', 'c', opSelect, 0, opSliceAt, 2, 6, opAsReadOnly, opSelect, 3, opPut, 9, opWrite, 2, 1, 2},
	{8, opWrite, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, opFlip, opRead, 3, opReadByte, opReadAt, 4, 6, opReadAt, 0, 8, opWriteAt, 2, 7, 7, 7, opReadAt, 1, 0x80},
	{12, opReadFrom, 20, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', opFlip, opWriteTo, opReadFrom, 0},
	{16, opDuplicate, opSelect, 1, opSetPosition, 4, opPutBuffer, 0, opSelect, 0, opPutBuffer, 0, opPutBuffer, 1, opEqualCompare, 1, opFree, 1, opFree, 0, opGet, opPutAt, 0, 1, opTypedGet, 0, opRead, 1, opFree, 0},
	{0, opGet, opPut, 1, opTypedGetAt, 4, 0, opSliceAt, 0, 0, opCompact, opRead, 1, opReadAt, 0, 0, opWriteAt, 0, 0},
	{64, opGetBytesAt, 0x7F, 1, opPutBytesAt, 0x80, 1, 0, opSliceAt, 0x7F, 1, opSetPosition, 0x80, opSetLimit, 0x7F, opTypedPutAt, 1, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0},
	{20, opWriteString, 4, 'a', 'b', 'c', 'd', opWriteByte, 'e', opFlip, opGetBytes, 3, opGetBytes, 9, opGetBytesAt, 1, 3},
}

// fuzzIn reads the fuzz input; past its end it reads zeros.
type fuzzIn struct{ p []byte }

func (in *fuzzIn) more() bool { return len(in.p) > 0 }

func (in *fuzzIn) byte() byte {
	if len(in.p) == 0 {
		return 0
	}
	c := in.p[0]
	in.p = in.p[1:]
	return c
}

func (in *fuzzIn) int() int {
	switch v := int8(in.byte()); v {
	case math.MinInt8:
		return math.MinInt
	case math.MaxInt8:
		return math.MaxInt
	default:
		return int(v)
	}
}

func (in *fuzzIn) length() int { return int(in.byte()) % 80 }

func (in *fuzzIn) bytes() []byte {
	n := in.length()
	p := make([]byte, n)
	for i := range p {
		p[i] = in.byte()
	}
	return p
}

func (in *fuzzIn) uint64() uint64 {
	var u uint64
	for range 8 {
		u = u<<8 | uint64(in.byte())
	}
	return u
}

// model is a Buffer's expected state: mem is a Go slice standing for the
// view's memory, a subslice of the model's root memory, so views share
// bytes as the Buffer's do.
type model struct {
	mem            []byte
	pos, lim, mark int
	little         bool
	readOnly       bool
	isView         bool
	freed          *bool // shared by the root and its views
}

func (m *model) order() binary.ByteOrder {
	if m.little {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

func (m *model) view(off, n int) *model {
	return &model{mem: m.mem[off : off+n : off+n], lim: n, mark: -1, readOnly: m.readOnly, isView: true, freed: m.freed}
}

func (m *model) getBits(i, size int) uint64 {
	p := m.mem[i : i+size]
	switch size {
	case 2:
		return uint64(m.order().Uint16(p))
	case 4:
		return uint64(m.order().Uint32(p))
	}
	return m.order().Uint64(p)
}

func (m *model) putBits(i, size int, u uint64) {
	copy(m.mem[i:i+size], encodeBits(m.order(), size, u))
}

// fuzzRun is one execution: the buffers, their models, and a log of the
// operations for failure messages.
type fuzzRun struct {
	t      *testing.T
	bufs   []*directmem.Buffer
	models []*model
	root   []byte // the model's root memory
	cur    int
	log    []string
}

func (r *fuzzRun) failf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("after ops %s:\n%s", strings.Join(r.log, "; "), fmt.Sprintf(format, args...))
}

// errorsMatch compares a Buffer's error with the model's. io.EOF must be
// returned as itself (io.Reader's contract); the rest match by sentinel.
func (r *fuzzRun) errorsMatch(op string, got, want error) {
	r.t.Helper()
	switch {
	case want == nil && got != nil, want != nil && !errors.Is(got, want), want == io.EOF && got != io.EOF:
		r.failf("%s: error %v, want %v", op, got, want)
	}
}

func (r *fuzzRun) same(op string, got, want any) {
	r.t.Helper()
	if got != want {
		r.failf("%s: got %v, want %v", op, got, want)
	}
}

func (r *fuzzRun) sameBytes(op string, got, want []byte) {
	r.t.Helper()
	if !bytes.Equal(got, want) {
		r.failf("%s: got bytes %v, want %v", op, got, want)
	}
}

// check compares every buffer with its model.
func (r *fuzzRun) check() {
	r.t.Helper()
	freed := *r.models[0].freed
	for i, b := range r.bufs {
		m := r.models[i]
		mark := markOf(b)
		if b.Position() != m.pos || b.Limit() != m.lim || b.Capacity() != len(m.mem) || mark != m.mark {
			r.failf("buffer %d: pos %d lim %d cap %d mark %d; model pos %d lim %d cap %d mark %d",
				i, b.Position(), b.Limit(), b.Capacity(), mark, m.pos, m.lim, len(m.mem), m.mark)
		}
		if b.Remaining() != m.lim-m.pos || b.HasRemaining() != (m.pos < m.lim) {
			r.failf("buffer %d: Remaining %d HasRemaining %v at pos %d lim %d", i, b.Remaining(), b.HasRemaining(), m.pos, m.lim)
		}
		if b.IsReadOnly() != m.readOnly || b.IsFreed() != freed {
			r.failf("buffer %d: IsReadOnly %v IsFreed %v; model %v %v", i, b.IsReadOnly(), b.IsFreed(), m.readOnly, freed)
		}
		if little := b.Order() == binary.LittleEndian; little != m.little {
			r.failf("buffer %d: order %v, model little-endian %v", i, b.Order(), m.little)
		}
		if freed {
			if b.Bytes() != nil {
				r.failf("buffer %d: Bytes() not nil after Free", i)
			}
		} else if !bytes.Equal(b.Bytes(), m.mem[m.pos:m.lim]) {
			r.failf("buffer %d: Bytes() %v, model %v", i, b.Bytes(), m.mem[m.pos:m.lim])
		}
	}
	if !freed {
		all := r.bufs[0].Duplicate()
		all.Clear()
		if !bytes.Equal(all.Bytes(), r.root) {
			r.failf("memory %v, model %v", all.Bytes(), r.root)
		}
	}
}

// addView adds a view and its model, replacing an old view once there are 8.
func (r *fuzzRun) addView(b *directmem.Buffer, m *model, slot byte) {
	if len(r.bufs) < 8 {
		r.bufs = append(r.bufs, b)
		r.models = append(r.models, m)
		return
	}
	i := 1 + int(slot)%(len(r.bufs)-1) // never the root
	r.bufs[i], r.models[i] = b, m
}

func runBufferOps(t *testing.T, data []byte) {
	in := &fuzzIn{p: data}
	capacity := int(in.byte()) % 65
	root, err := testAllocator.AllocateContext(t.Context(), capacity)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Free()
	freed := false
	r := &fuzzRun{
		t:      t,
		bufs:   []*directmem.Buffer{root},
		root:   make([]byte, capacity),
		models: nil,
	}
	r.models = []*model{{mem: r.root, lim: capacity, mark: -1, freed: &freed}}
	r.check()
	for steps := 0; in.more() && steps < 400; steps++ {
		r.step(in)
		r.check()
	}
}

// step decodes and applies one operation.
func (r *fuzzRun) step(in *fuzzIn) {
	t := r.t
	t.Helper()
	b, m := r.bufs[r.cur], r.models[r.cur]
	freed := *m.freed
	op := int(in.byte()) % numOps
	logf := func(format string, args ...any) {
		r.log = append(r.log, fmt.Sprintf("[%d]", r.cur)+fmt.Sprintf(format, args...))
	}
	// Errors in the order the package gives them precedence.
	readErr := func(bounds error) error {
		if freed {
			return directmem.ErrFreed
		}
		return bounds
	}
	writeErr := func(bounds error) error {
		switch {
		case freed:
			return directmem.ErrFreed
		case m.readOnly:
			return directmem.ErrReadOnly
		}
		return bounds
	}
	switch op {
	case opSetPosition:
		p := in.int()
		logf("SetPosition(%d)", p)
		var want error
		if p < 0 || p > m.lim {
			want = directmem.ErrIndexOutOfRange
		} else {
			if m.mark > p {
				m.mark = -1
			}
			m.pos = p
		}
		r.errorsMatch("SetPosition", b.SetPosition(p), want)
	case opSetLimit:
		l := in.int()
		logf("SetLimit(%d)", l)
		var want error
		if l < 0 || l > len(m.mem) {
			want = directmem.ErrIndexOutOfRange
		} else {
			m.lim = l
			m.pos = min(m.pos, l)
			if m.mark > l {
				m.mark = -1
			}
		}
		r.errorsMatch("SetLimit", b.SetLimit(l), want)
	case opMark:
		logf("Mark")
		b.Mark()
		m.mark = m.pos
	case opReset:
		logf("Reset")
		var want error
		if m.mark < 0 {
			want = directmem.ErrInvalidMark
		} else {
			m.pos = m.mark
		}
		r.errorsMatch("Reset", b.Reset(), want)
	case opFlip:
		logf("Flip")
		b.Flip()
		m.lim, m.pos, m.mark = m.pos, 0, -1
	case opClear:
		logf("Clear")
		b.Clear()
		m.pos, m.lim, m.mark = 0, len(m.mem), -1
	case opRewind:
		logf("Rewind")
		b.Rewind()
		m.pos, m.mark = 0, -1
	case opCompact:
		logf("Compact")
		want := writeErr(nil)
		if want == nil {
			n := copy(m.mem, m.mem[m.pos:m.lim])
			m.pos, m.lim, m.mark = n, len(m.mem), -1
		}
		r.errorsMatch("Compact", b.Compact(), want)
	case opGet, opReadByte:
		name := map[int]string{opGet: "Get", opReadByte: "ReadByte"}[op]
		logf("%s", name)
		var want error
		var wantV byte
		switch {
		case freed:
			want = directmem.ErrFreed
		case m.pos >= m.lim && op == opGet:
			want = directmem.ErrBufferUnderflow
		case m.pos >= m.lim:
			want = io.EOF
		default:
			wantV = m.mem[m.pos]
			m.pos++
		}
		var v byte
		var err error
		if op == opGet {
			v, err = b.Get()
		} else {
			v, err = b.ReadByte()
		}
		r.errorsMatch(name, err, want)
		r.same(name, v, wantV)
	case opPut, opWriteByte:
		v := in.byte()
		name := map[int]string{opPut: "Put", opWriteByte: "WriteByte"}[op]
		logf("%s(%d)", name, v)
		want := writeErr(nil)
		if want == nil {
			if m.pos >= m.lim {
				want = directmem.ErrBufferOverflow
			} else {
				m.mem[m.pos] = v
				m.pos++
			}
		}
		if op == opPut {
			r.errorsMatch(name, b.Put(v), want)
		} else {
			r.errorsMatch(name, b.WriteByte(v), want)
		}
	case opGetAt:
		i := in.int()
		logf("GetAt(%d)", i)
		var wantV byte
		want := readErr(nil)
		if want == nil {
			if i < 0 || i >= m.lim {
				want = directmem.ErrIndexOutOfRange
			} else {
				wantV = m.mem[i]
			}
		}
		v, err := b.GetAt(i)
		r.errorsMatch("GetAt", err, want)
		r.same("GetAt", v, wantV)
	case opPutAt:
		i, v := in.int(), in.byte()
		logf("PutAt(%d, %d)", i, v)
		want := writeErr(nil)
		if want == nil {
			if i < 0 || i >= m.lim {
				want = directmem.ErrIndexOutOfRange
			} else {
				m.mem[i] = v
			}
		}
		r.errorsMatch("PutAt", b.PutAt(i, v), want)
	case opTypedGet:
		tc := typedCases[int(in.byte())%len(typedCases)]
		logf("Get%s", tc.name)
		var wantV uint64
		want := readErr(nil)
		if want == nil {
			if m.lim-m.pos < tc.size {
				want = directmem.ErrBufferUnderflow
			} else {
				wantV = m.getBits(m.pos, tc.size)
				m.pos += tc.size
			}
		}
		v, err := tc.get(b)
		r.errorsMatch("Get"+tc.name, err, want)
		r.same("Get"+tc.name, v, wantV)
	case opTypedPut:
		tc := typedCases[int(in.byte())%len(typedCases)]
		u := in.uint64()
		logf("Put%s(%#x)", tc.name, u)
		want := writeErr(nil)
		if want == nil {
			if m.lim-m.pos < tc.size {
				want = directmem.ErrBufferOverflow
			} else {
				m.putBits(m.pos, tc.size, u)
				m.pos += tc.size
			}
		}
		r.errorsMatch("Put"+tc.name, tc.put(b, u), want)
	case opTypedGetAt:
		tc := typedCases[int(in.byte())%len(typedCases)]
		i := in.int()
		logf("Get%sAt(%d)", tc.name, i)
		var wantV uint64
		want := readErr(nil)
		if want == nil {
			if i < 0 || i > m.lim-tc.size {
				want = directmem.ErrIndexOutOfRange
			} else {
				wantV = m.getBits(i, tc.size)
			}
		}
		v, err := tc.getAt(b, i)
		r.errorsMatch("Get"+tc.name+"At", err, want)
		r.same("Get"+tc.name+"At", v, wantV)
	case opTypedPutAt:
		tc := typedCases[int(in.byte())%len(typedCases)]
		i := in.int()
		u := in.uint64()
		logf("Put%sAt(%d, %#x)", tc.name, i, u)
		want := writeErr(nil)
		if want == nil {
			if i < 0 || i > m.lim-tc.size {
				want = directmem.ErrIndexOutOfRange
			} else {
				m.putBits(i, tc.size, u)
			}
		}
		r.errorsMatch("Put"+tc.name+"At", tc.putAt(b, i, u), want)
	case opGetBytes:
		n := in.length()
		logf("GetBytes(%d)", n)
		got, wantDst := bytes.Repeat([]byte{0xA5}, n), bytes.Repeat([]byte{0xA5}, n)
		want := readErr(nil)
		if want == nil {
			if n > m.lim-m.pos {
				want = directmem.ErrBufferUnderflow
			} else {
				m.pos += copy(wantDst, m.mem[m.pos:m.lim])
			}
		}
		r.errorsMatch("GetBytes", b.GetBytes(got), want)
		r.sameBytes("GetBytes", got, wantDst)
	case opPutBytes:
		p := in.bytes()
		logf("PutBytes(%d bytes)", len(p))
		want := writeErr(nil)
		if want == nil {
			if len(p) > m.lim-m.pos {
				want = directmem.ErrBufferOverflow
			} else {
				m.pos += copy(m.mem[m.pos:m.lim], p)
			}
		}
		r.errorsMatch("PutBytes", b.PutBytes(p), want)
	case opGetBytesAt:
		i, n := in.int(), in.length()
		logf("GetBytesAt(%d, %d)", i, n)
		got, wantDst := bytes.Repeat([]byte{0xA5}, n), bytes.Repeat([]byte{0xA5}, n)
		want := readErr(nil)
		if want == nil {
			if i < 0 || i > m.lim || n > m.lim-i {
				want = directmem.ErrIndexOutOfRange
			} else {
				copy(wantDst, m.mem[i:m.lim])
			}
		}
		r.errorsMatch("GetBytesAt", b.GetBytesAt(i, got), want)
		r.sameBytes("GetBytesAt", got, wantDst)
	case opPutBytesAt:
		i := in.int()
		p := in.bytes()
		logf("PutBytesAt(%d, %d bytes)", i, len(p))
		want := writeErr(nil)
		if want == nil {
			if i < 0 || i > m.lim || len(p) > m.lim-i {
				want = directmem.ErrIndexOutOfRange
			} else {
				copy(m.mem[i:m.lim], p)
			}
		}
		r.errorsMatch("PutBytesAt", b.PutBytesAt(i, p), want)
	case opSlice:
		slot := in.byte()
		logf("Slice")
		r.addView(b.Slice(), m.view(m.pos, m.lim-m.pos), slot)
	case opSliceAt:
		i, n := in.int(), in.int()
		slot := in.byte()
		logf("SliceAt(%d, %d)", i, n)
		v, err := b.SliceAt(i, n)
		if i < 0 || n < 0 || i > m.lim || n > m.lim-i {
			r.errorsMatch("SliceAt", err, directmem.ErrIndexOutOfRange)
			if v != nil {
				r.failf("SliceAt(%d, %d) returned a view with its error", i, n)
			}
			break
		}
		r.errorsMatch("SliceAt", err, nil)
		r.addView(v, m.view(i, n), slot)
	case opDuplicate, opAsReadOnly:
		slot := in.byte()
		d := *m
		d.isView, d.little = true, false
		var v *directmem.Buffer
		if op == opDuplicate {
			logf("Duplicate")
			v = b.Duplicate()
		} else {
			logf("AsReadOnly")
			v = b.AsReadOnly()
			d.readOnly = true
		}
		r.addView(v, &d, slot)
	case opRead:
		n := in.length()
		logf("Read(%d)", n)
		got, wantDst := bytes.Repeat([]byte{0xA5}, n), bytes.Repeat([]byte{0xA5}, n)
		wantN := 0
		want := readErr(nil)
		if want == nil {
			if m.pos >= m.lim && n > 0 {
				want = io.EOF
			} else {
				wantN = copy(wantDst, m.mem[m.pos:m.lim])
				m.pos += wantN
			}
		}
		gotN, err := b.Read(got)
		r.errorsMatch("Read", err, want)
		r.same("Read", gotN, wantN)
		r.sameBytes("Read", got, wantDst)
	case opWrite, opWriteString:
		p := in.bytes()
		name := map[int]string{opWrite: "Write", opWriteString: "WriteString"}[op]
		logf("%s(%d bytes)", name, len(p))
		wantN := 0
		want := writeErr(nil)
		if want == nil {
			wantN = copy(m.mem[m.pos:m.lim], p)
			m.pos += wantN
			if wantN < len(p) {
				want = directmem.ErrBufferOverflow
			}
		}
		var gotN int
		var err error
		if op == opWrite {
			gotN, err = b.Write(p)
		} else {
			gotN, err = b.WriteString(string(p))
		}
		r.errorsMatch(name, err, want)
		r.same(name, gotN, wantN)
	case opReadAt:
		n, off := in.length(), int64(in.int())
		logf("ReadAt(%d, %d)", n, off)
		got, wantDst := bytes.Repeat([]byte{0xA5}, n), bytes.Repeat([]byte{0xA5}, n)
		wantN := 0
		want := readErr(nil)
		switch {
		case want != nil:
		case off < 0:
			want = directmem.ErrIndexOutOfRange
		case off >= int64(m.lim):
			if n != 0 || off != int64(m.lim) {
				want = io.EOF
			}
		default:
			wantN = copy(wantDst, m.mem[off:m.lim])
			if wantN < n {
				want = io.EOF
			}
		}
		gotN, err := b.ReadAt(got, off)
		r.errorsMatch("ReadAt", err, want)
		r.same("ReadAt", gotN, wantN)
		r.sameBytes("ReadAt", got, wantDst)
	case opWriteAt:
		off := int64(in.int())
		p := in.bytes()
		logf("WriteAt(%d bytes, %d)", len(p), off)
		wantN := 0
		want := writeErr(nil)
		switch {
		case want != nil:
		case off < 0 || off > int64(m.lim):
			want = directmem.ErrIndexOutOfRange
		default:
			wantN = copy(m.mem[off:m.lim], p)
			if wantN < len(p) {
				want = directmem.ErrBufferOverflow
			}
		}
		gotN, err := b.WriteAt(p, off)
		r.errorsMatch("WriteAt", err, want)
		r.same("WriteAt", gotN, wantN)
	case opReadFrom:
		p := in.bytes()
		logf("ReadFrom(%d bytes)", len(p))
		var wantN int64
		want := writeErr(nil)
		if want == nil {
			// ReadFrom stops at io.EOF (nil) or when the buffer is full
			// (ErrBufferOverflow: it cannot know whether more would come).
			rem := m.lim - m.pos
			k := copy(m.mem[m.pos:m.lim], p)
			m.pos += k
			wantN = int64(k)
			if len(p) >= rem {
				want = directmem.ErrBufferOverflow
			}
		}
		gotN, err := b.ReadFrom(bytes.NewReader(p))
		r.errorsMatch("ReadFrom", err, want)
		r.same("ReadFrom", gotN, wantN)
	case opWriteTo:
		logf("WriteTo")
		var w, wantW bytes.Buffer
		want := readErr(nil)
		if want == nil {
			wantW.Write(m.mem[m.pos:m.lim])
			m.pos = m.lim
		}
		gotN, err := b.WriteTo(&w)
		r.errorsMatch("WriteTo", err, want)
		r.same("WriteTo", gotN, int64(wantW.Len()))
		r.sameBytes("WriteTo", w.Bytes(), wantW.Bytes())
	case opSetOrder:
		little := in.byte()&1 == 1
		logf("SetOrder(little=%v)", little)
		if little {
			b.SetOrder(binary.LittleEndian)
		} else {
			b.SetOrder(binary.BigEndian)
		}
		m.little = little
	case opSelect:
		r.cur = int(in.byte()) % len(r.bufs)
		logf("Select")
	case opPutBuffer:
		j := int(in.byte()) % len(r.bufs)
		src, sm := r.bufs[j], r.models[j]
		logf("PutBuffer([%d])", j)
		var want error
		switch {
		case j == r.cur:
			want = directmem.ErrSameBuffer
		case freed:
			want = directmem.ErrFreed
		case m.readOnly:
			want = directmem.ErrReadOnly
		case sm.lim-sm.pos > m.lim-m.pos:
			want = directmem.ErrBufferOverflow
		default:
			tmp := bytes.Clone(sm.mem[sm.pos:sm.lim])
			m.pos += copy(m.mem[m.pos:m.lim], tmp)
			sm.pos += len(tmp)
		}
		r.errorsMatch("PutBuffer", b.PutBuffer(src), want)
	case opEqualCompare:
		j := int(in.byte()) % len(r.bufs)
		c, cm := r.bufs[j], r.models[j]
		logf("Equal/Compare([%d])", j)
		wantEq, wantCmp := false, 0
		if !freed {
			wantEq = bytes.Equal(m.mem[m.pos:m.lim], cm.mem[cm.pos:cm.lim])
			wantCmp = bytes.Compare(m.mem[m.pos:m.lim], cm.mem[cm.pos:cm.lim])
		}
		r.same("Equal", b.Equal(c), wantEq)
		r.same("Compare", b.Compare(c), wantCmp)
	case opFree:
		j := int(in.byte()) % len(r.bufs)
		logf("Free([%d])", j)
		var want error
		if r.models[j].isView {
			want = directmem.ErrNotOwner
		} else {
			*m.freed = true
		}
		r.errorsMatch("Free", r.bufs[j].Free(), want)
	default:
		panic("unreachable")
	}
}

// TestFuzzSeeds runs the seeds of FuzzBufferOps, and each with every
// prefix cut off, so that a plain `go test` covers them thoroughly.
func TestFuzzSeeds(t *testing.T) {
	for i, seed := range fuzzSeeds {
		for cut := range len(seed) {
			t.Run(fmt.Sprintf("seed%d/from%d", i, cut), func(t *testing.T) {
				runBufferOps(t, seed[cut:])
			})
		}
	}
}

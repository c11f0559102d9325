package pagealign_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/offheap-go/offheap/pagealign"
)

// mappingCount is the number of lines (VMAs) in /proc/self/maps.
func mappingCount(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("cannot read /proc/self/maps: %v", err)
	}
	return bytes.Count(b, []byte("\n"))
}

// mapTwoVMAs maps two pages and makes the second read-only, so that the
// region is two VMAs whose edges differ in protection from any neighbouring
// region's: the kernel cannot merge leaked regions into one line of
// /proc/self/maps, and each one leaked shows.
func mapTwoVMAs(t *testing.T) *pagealign.Region {
	t.Helper()
	ps := pagealign.PageSize()
	r, err := pagealign.Map(2 * ps)
	if err != nil {
		t.Fatal(err)
	}
	region := r.Bytes()
	if err := unix.Mprotect(region[ps:2*ps], unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	region[0] = 1 // touch it, as a real user would
	return r
}

func TestMapUnmapDoesNotLeakMappings(t *testing.T) {
	const (
		rounds = 1000
		held   = 50
		// The Go runtime maps memory of its own (heap arenas, stacks) while
		// the test runs; allow it a few new VMAs.
		slack = 16
	)

	// Calibrate: regions that stay mapped do show up, one or more lines each.
	before := mappingCount(t)
	var live []*pagealign.Region
	for range held {
		live = append(live, mapTwoVMAs(t))
	}
	during := mappingCount(t)
	for _, r := range live {
		if err := r.Unmap(); err != nil {
			t.Fatal(err)
		}
	}
	if during-before < held {
		t.Fatalf("%d live regions added only %d mappings (%d -> %d); the leak check below would be blind", held, during-before, before, during)
	}

	before = mappingCount(t)
	for range rounds {
		if err := mapTwoVMAs(t).Unmap(); err != nil {
			t.Fatal(err)
		}
	}
	after := mappingCount(t)
	if after > before+slack {
		t.Fatalf("/proc/self/maps grew from %d to %d lines over %d Map+Unmap rounds", before, after, rounds)
	}
	t.Logf("/proc/self/maps: %d lines before, %d after %d rounds (%d with %d regions held)", before, after, rounds, during, held)
}

func TestMapENOMEM(t *testing.T) {
	// The largest size that rounds to whole pages is valid for Map but far
	// beyond any address space: the mmap error comes back wrapped, with the size.
	if math.MaxInt == math.MaxInt32 {
		t.Skip("a 32-bit address space may have room for MaxInt bytes")
	}
	n := math.MaxInt &^ (pagealign.PageSize() - 1)
	r, err := pagealign.Map(n)
	if err == nil {
		_ = r.Unmap()
		t.Fatalf("Map(%d) succeeded", n)
	}
	if errors.Is(err, pagealign.ErrInvalidSize) {
		t.Fatalf("Map(%d) = %v, a valid size reported as invalid", n, err)
	}
	if !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("Map(%d) = %v, want an error wrapping ENOMEM", n, err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(n)) {
		t.Errorf("error %q does not name the size", err)
	}
}

func TestSyncSharedFile(t *testing.T) {
	// Sync exists for file-backed shared mappings (MappedByteBuffer.force):
	// msync succeeds on one, and the file holds what was written through it.
	ps := pagealign.PageSize()
	f, err := os.CreateTemp(t.TempDir(), "sync")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(2 * ps)); err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, 2*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	copy(m[ps:], "forced")
	if err := pagealign.Sync(m[ps : ps+6]); err != nil {
		t.Fatalf("Sync of the second page: %v", err)
	}
	if err := pagealign.Sync(m); err != nil {
		t.Fatalf("Sync of the whole mapping: %v", err)
	}
	got := make([]byte, 6)
	if _, err := f.ReadAt(got, int64(ps)); err != nil {
		t.Fatal(err)
	}
	if string(got) != "forced" {
		t.Fatalf("file holds %q after Sync, want %q", got, "forced")
	}
}

package pagealign_test

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/offheap-go/offheap/pagealign"
)

func TestResidentExact(t *testing.T) {
	// Exactly the touched pages are resident, and AdviseDontNeed takes them
	// out again (Linux frees private anonymous pages at once; other systems
	// may keep them until memory is short).
	ps := pagealign.PageSize()
	_, region := mapRegion(t, 4*ps)
	// With transparent huge pages on, touching one page can fault in a whole
	// 2 MiB huge page around it if the region's mapping merged with
	// neighbours that span one; that would make untouched pages resident.
	if err := unix.Madvise(region[:cap(region)], unix.MADV_NOHUGEPAGE); err != nil {
		t.Fatal(err)
	}
	region[0], region[2*ps] = 1, 1
	if got := resident(t, region, 4); !bytes.Equal(got, []byte{1, 0, 1, 0}) {
		t.Fatalf("after touching pages 0 and 2: resident %v, want [1 0 1 0]", got)
	}
	if err := pagealign.Advise(region[2*ps:3*ps], pagealign.AdviseDontNeed); err != nil {
		t.Fatal(err)
	}
	if got := resident(t, region, 4); !bytes.Equal(got, []byte{1, 0, 0, 0}) {
		t.Fatalf("after DontNeed of page 2: resident %v, want [1 0 0 0]", got)
	}
	if err := pagealign.Advise(region, pagealign.AdviseDontNeed); err != nil {
		t.Fatal(err)
	}
	if got := resident(t, region, 4); !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Fatalf("after DontNeed of the region: resident %v, want none", got)
	}
}

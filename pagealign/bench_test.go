package pagealign_test

import (
	"testing"

	"github.com/offheap-go/offheap/pagealign"
)

func BenchmarkMapUnmap(b *testing.B) {
	ps := pagealign.PageSize()
	for _, size := range []struct {
		name string
		n    int
	}{{"4KiB", 4 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}} {
		b.Run(size.name, func(b *testing.B) {
			for _, touch := range []string{"none", "first", "every"} {
				b.Run("touch="+touch, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						r, err := pagealign.Map(size.n)
						if err != nil {
							b.Fatal(err)
						}
						region := r.Bytes()
						switch touch {
						case "first":
							region[0] = 1
						case "every":
							for i := 0; i < len(region); i += ps {
								region[i] = 1
							}
						}
						if err := r.Unmap(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func BenchmarkAdviseDontNeed(b *testing.B) {
	const n = 64 << 10
	ps := pagealign.PageSize()
	r, err := pagealign.Map(n)
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { _ = r.Unmap() })
	region := r.Bytes()
	b.SetBytes(n)
	for b.Loop() {
		for i := 0; i < n; i += ps {
			region[i] = 1
		}
		if err := pagealign.Advise(region, pagealign.AdviseDontNeed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAlignUp(b *testing.B) {
	ps := pagealign.PageSize()
	n := 12345
	var sink int
	for b.Loop() {
		r, ok := pagealign.AlignUpChecked(n, ps)
		if !ok {
			b.Fatal("overflow")
		}
		sink += r
		n++
	}
	_ = sink
}

func BenchmarkResident(b *testing.B) {
	// One mincore over 2 MiB of half-touched pages, the window directmem
	// scans when it zeroes a large buffer.
	const n = 2 << 20
	ps := pagealign.PageSize()
	r, err := pagealign.Map(n)
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { _ = r.Unmap() })
	region := r.Bytes()
	for i := 0; i < n; i += 2 * ps {
		region[i] = 1
	}
	vec := make([]byte, n/ps)
	if err := pagealign.Resident(region, vec); err != nil {
		b.Skip(err)
	}
	b.SetBytes(n)
	for b.Loop() {
		if err := pagealign.Resident(region, vec); err != nil {
			b.Fatal(err)
		}
	}
}

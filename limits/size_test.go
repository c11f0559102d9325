package limits

import (
	"errors"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"00", 0},
		{"0k", 0},
		{"10", 10},
		{"007", 7},
		{"1k", 1 << 10},
		{"1K", 1 << 10},
		{"100", 100},
		{"64m", 64 << 20},
		{"65M", 65 << 20},
		{"2G", 2 << 30},
		{"2g", 2 << 30},
		{"1t", 1 << 40},
		{"1T", 1 << 40},
		{"9223372036854775807", math.MaxInt64},
		{"9007199254740991k", 9007199254740991 << 10},
		{"8589934591g", 8589934591 << 30},
		{"8388607t", 8388607 << 40},
	} {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSizeInvalid(t *testing.T) {
	for _, tt := range []struct{ in, reason string }{
		{"", "want decimal digits"},
		{"-1", "want decimal digits"},
		{"+5", "want decimal digits"},
		{"foo", "want decimal digits"},
		{"10kmt", "want decimal digits"},
		{"1.5g", "want decimal digits"},
		{" 1k", "want decimal digits"},
		{"1k ", "want decimal digits"},
		{"1 k", "want decimal digits"},
		{"\t64m", "want decimal digits"},
		{"k", "want decimal digits"},
		{"K", "want decimal digits"},
		{"1kb", "want decimal digits"},
		{"1b", "want decimal digits"},
		{"1e3", "want decimal digits"},
		{"0x10", "want decimal digits"},
		{"1_000", "want decimal digits"},
		{"１", "want decimal digits"}, // fullwidth digit one
		{"1\x00", "want decimal digits"},
		{"9223372036854775808", "more than 9223372036854775807 bytes"},
		{"9223372036854775807k", "more than 9223372036854775807 bytes"},
		{"9007199254740992k", "more than 9223372036854775807 bytes"},
		{"8589934592g", "more than 9223372036854775807 bytes"},
		{"8388608t", "more than 9223372036854775807 bytes"},
		{"99999999999999999999999999", "more than 9223372036854775807 bytes"},
	} {
		got, err := ParseSize(tt.in)
		if err == nil {
			t.Errorf("ParseSize(%q) = %d, nil; want an error", tt.in, got)
			continue
		}
		if got != 0 {
			t.Errorf("ParseSize(%q) returned %d with its error; want 0", tt.in, got)
		}
		if !errors.Is(err, ErrInvalidSize) {
			t.Errorf("ParseSize(%q) error %v does not wrap ErrInvalidSize", tt.in, err)
		}
		if msg := err.Error(); !strings.Contains(msg, strconv.Quote(tt.in)) || !strings.Contains(msg, tt.reason) {
			t.Errorf("ParseSize(%q) error %q; want it to quote the input and say %q", tt.in, msg, tt.reason)
		}
	}
}

var (
	sizeSyntax     = regexp.MustCompile(`^([0-9]+)([kKmMgGtT]?)$`)
	canonicalSize  = regexp.MustCompile(`^(0|[1-9][0-9]*)([kKmMgGtT]?)$`)
	sizeMultiplier = map[string]int64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
)

// referenceParseSize is ParseSize written the slow, obvious way.
func referenceParseSize(s string) (int64, bool) {
	m := sizeSyntax.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, _ := new(big.Int).SetString(m[1], 10)
	n.Mul(n, big.NewInt(sizeMultiplier[strings.ToLower(m[2])]))
	if !n.IsInt64() {
		return 0, false
	}
	return n.Int64(), true
}

func FuzzParseSize(f *testing.F) {
	// More seeds are in testdata/fuzz/FuzzParseSize.
	for _, s := range []string{"10", "1k", "64m", "2G", "0", "-1", "foo", "10kmt", "1.5g", " 1k", "", "+5", "k", "9223372036854775807k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSize(s)
		want, ok := referenceParseSize(s)
		if ok != (err == nil) || got != want {
			t.Fatalf("ParseSize(%q) = %d, %v; reference says %d, ok=%v", s, got, err, want, ok)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidSize) || !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("ParseSize(%q) error %q: want ErrInvalidSize naming the input", s, err)
			}
			return
		}
		if got < 0 {
			t.Fatalf("ParseSize(%q) = %d < 0", s, got)
		}
		if m := canonicalSize.FindStringSubmatch(s); m != nil {
			unit := sizeMultiplier[strings.ToLower(m[2])]
			if got%unit != 0 {
				t.Fatalf("ParseSize(%q) = %d, not a multiple of %d", s, got, unit)
			}
			if back := strconv.FormatInt(got/unit, 10) + m[2]; back != s {
				t.Fatalf("ParseSize(%q) = %d, which formats back as %q", s, got, back)
			}
		}
	})
}

package limits

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func memory(n int64) func() (int64, bool) {
	return func() (int64, bool) { return n, true }
}

func unknownMemory() (int64, bool) { return 0, false }

func TestDefaultLimit(t *testing.T) {
	const ram = 8 << 30
	for _, tt := range []struct {
		name   string
		vars   map[string]string
		memory func() (int64, bool)
		want   int64
	}{
		{"nothing set", nil, memory(ram), ram / 4},
		{"memory unknown", nil, unknownMemory, fallbackLimit},
		{"DIRECTMEM_MAX", map[string]string{"DIRECTMEM_MAX": "64m"}, memory(ram), 64 << 20},
		{"DIRECTMEM_MAX over GOMEMLIMIT", map[string]string{"DIRECTMEM_MAX": "2G", "GOMEMLIMIT": "1GiB"}, memory(ram), 2 << 30},
		{"DIRECTMEM_MAX zero", map[string]string{"DIRECTMEM_MAX": "0", "GOMEMLIMIT": "1GiB"}, memory(ram), 0},
		{"DIRECTMEM_MAX plain bytes", map[string]string{"DIRECTMEM_MAX": "12345"}, memory(ram), 12345},
		// GOMEMLIMIT is not consulted once DIRECTMEM_MAX decides.
		{"DIRECTMEM_MAX hides GOMEMLIMIT", map[string]string{"DIRECTMEM_MAX": "1k", "GOMEMLIMIT": "bogus"}, memory(ram), 1 << 10},
		{"DIRECTMEM_MAX empty", map[string]string{"DIRECTMEM_MAX": "", "GOMEMLIMIT": "1GiB"}, memory(ram), 1 << 30},
		{"GOMEMLIMIT", map[string]string{"GOMEMLIMIT": "512MiB"}, memory(ram), 512 << 20},
		{"GOMEMLIMIT bytes", map[string]string{"GOMEMLIMIT": "1000000"}, memory(ram), 1000000},
		{"GOMEMLIMIT zero", map[string]string{"GOMEMLIMIT": "0"}, memory(ram), 0},
		{"GOMEMLIMIT off", map[string]string{"GOMEMLIMIT": "off"}, memory(ram), ram / 4},
		{"GOMEMLIMIT off, memory unknown", map[string]string{"GOMEMLIMIT": "off"}, unknownMemory, fallbackLimit},
		{"GOMEMLIMIT empty", map[string]string{"GOMEMLIMIT": ""}, memory(ram), ram / 4},
		{"small machine", nil, memory(3), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newDefaultBudget(env(tt.vars), tt.memory)
			if err := b.Err(); err != nil {
				t.Fatalf("Err() = %v", err)
			}
			if got := b.Max(); got != tt.want {
				t.Fatalf("Max() = %d; want %d", got, tt.want)
			}
		})
	}
}

func TestDefaultInvalid(t *testing.T) {
	for _, tt := range []struct {
		vars     map[string]string
		variable string
	}{
		{map[string]string{"DIRECTMEM_MAX": "foo"}, "DIRECTMEM_MAX"},
		{map[string]string{"DIRECTMEM_MAX": "-1"}, "DIRECTMEM_MAX"},
		{map[string]string{"DIRECTMEM_MAX": "1.5g"}, "DIRECTMEM_MAX"},
		{map[string]string{"DIRECTMEM_MAX": "10kmt"}, "DIRECTMEM_MAX"},
		{map[string]string{"DIRECTMEM_MAX": " 64m"}, "DIRECTMEM_MAX"},
		{map[string]string{"DIRECTMEM_MAX": "64m\n"}, "DIRECTMEM_MAX"},
		{map[string]string{"DIRECTMEM_MAX": "64MiB"}, "DIRECTMEM_MAX"},
		{map[string]string{"DIRECTMEM_MAX": "9223372036854775807k"}, "DIRECTMEM_MAX"},
		// An invalid DIRECTMEM_MAX is not replaced by a valid GOMEMLIMIT.
		{map[string]string{"DIRECTMEM_MAX": "foo", "GOMEMLIMIT": "1GiB"}, "DIRECTMEM_MAX"},
		{map[string]string{"GOMEMLIMIT": "bogus"}, "GOMEMLIMIT"},
		{map[string]string{"GOMEMLIMIT": "-1"}, "GOMEMLIMIT"},
		{map[string]string{"GOMEMLIMIT": "1.5GiB"}, "GOMEMLIMIT"},
		{map[string]string{"GOMEMLIMIT": "1g"}, "GOMEMLIMIT"},
		{map[string]string{"GOMEMLIMIT": "1kB"}, "GOMEMLIMIT"},
		{map[string]string{"GOMEMLIMIT": "OFF"}, "GOMEMLIMIT"},
		{map[string]string{"GOMEMLIMIT": "9223372036854775807KiB"}, "GOMEMLIMIT"},
	} {
		value := tt.vars[tt.variable]
		t.Run(tt.variable+"="+value, func(t *testing.T) {
			b := newDefaultBudget(env(tt.vars), memory(8<<30))
			err := b.Err()
			if !errors.Is(err, ErrInvalidLimit) {
				t.Fatalf("Err() = %v; want ErrInvalidLimit", err)
			}
			if named := tt.variable + "=" + strconv.Quote(value); !strings.Contains(err.Error(), named) {
				t.Fatalf("Err() = %q; want it to name %s", err, named)
			}
			wantInvalidBudget(t, b)
		})
	}
}

// wantInvalidBudget checks that nothing can be reserved on b, not even
// capacity 0, and that every reservation fails with b.Err().
func wantInvalidBudget(t *testing.T, b *Budget) {
	t.Helper()
	for _, n := range []int64{0, 1} {
		if err := b.Reserve(context.Background(), n, n); err != b.Err() {
			t.Fatalf("Reserve(%d) = %v; want the budget's error %v", n, err, b.Err())
		}
		if b.tryReserveNow(n, n) {
			t.Fatalf("TryReserve(%d) succeeded on an invalid budget", n)
		}
	}
	if s := b.Stats(); s != (Stats{}) {
		t.Fatalf("an invalid budget has stats %+v", s)
	}
	if b.Max() != 0 {
		t.Fatalf("an invalid budget has Max %d", b.Max())
	}
}

// The same rules read from the process environment.
func TestDefaultFromEnvironment(t *testing.T) {
	t.Setenv("DIRECTMEM_MAX", "2G")
	t.Setenv("GOMEMLIMIT", "1GiB")
	if b := newDefaultBudget(os.LookupEnv, memory(8<<30)); b.Err() != nil || b.Max() != 2<<30 {
		t.Fatalf("DIRECTMEM_MAX=2G: Max %d, Err %v", b.Max(), b.Err())
	}
	t.Setenv("DIRECTMEM_MAX", "1.5g")
	b := newDefaultBudget(os.LookupEnv, memory(8<<30))
	if err := b.Err(); !errors.Is(err, ErrInvalidLimit) || !strings.Contains(err.Error(), `DIRECTMEM_MAX="1.5g"`) {
		t.Fatalf("DIRECTMEM_MAX=1.5g: Err %v", err)
	}
	wantInvalidBudget(t, b)
	os.Unsetenv("DIRECTMEM_MAX") // t.Setenv restores it
	if b := newDefaultBudget(os.LookupEnv, memory(8<<30)); b.Err() != nil || b.Max() != 1<<30 {
		t.Fatalf("GOMEMLIMIT=1GiB: Max %d, Err %v", b.Max(), b.Err())
	}
	// The runtime read GOMEMLIMIT at start-up; changing it now only
	// affects this package.
	t.Setenv("GOMEMLIMIT", "bogus")
	b = newDefaultBudget(os.LookupEnv, memory(8<<30))
	if err := b.Err(); !errors.Is(err, ErrInvalidLimit) || !strings.Contains(err.Error(), `GOMEMLIMIT="bogus"`) {
		t.Fatalf("GOMEMLIMIT=bogus: Err %v", err)
	}
	t.Setenv("GOMEMLIMIT", "off")
	if b := newDefaultBudget(os.LookupEnv, memory(8<<30)); b.Err() != nil || b.Max() != 2<<30 {
		t.Fatalf("GOMEMLIMIT=off: Max %d, Err %v", b.Max(), b.Err())
	}
}

func TestDefault(t *testing.T) {
	b := Default()
	if b != Default() {
		t.Fatal("Default returned two budgets")
	}
	want := newDefaultBudget(os.LookupEnv, processMemory)
	if b.Max() != want.Max() || (b.Err() == nil) != (want.Err() == nil) {
		t.Fatalf("Default: Max %d, Err %v; the environment says Max %d, Err %v", b.Max(), b.Err(), want.Max(), want.Err())
	}
}

func TestProcessMemory(t *testing.T) {
	n, ok := processMemory()
	switch {
	case !ok:
		t.Skip("memory size unknown on this system")
	case n <= 0:
		t.Fatalf("processMemory() = %d", n)
	}
	t.Logf("the process may use %d bytes; the default limit would be %d", n, n/4)
}

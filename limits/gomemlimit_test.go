package limits

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

func TestParseGoMemLimit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		off  bool
	}{
		{"off", 0, true},
		{"0", 0, false},
		{"1024", 1024, false},
		{"1B", 1, false},
		{"1KiB", 1 << 10, false},
		{"512MiB", 512 << 20, false},
		{"2GiB", 2 << 30, false},
		{"1TiB", 1 << 40, false},
		{"-0", 0, false},
		{"+1KiB", 1 << 10, false},
		{"9223372036854775807", math.MaxInt64, false},
		{"9223372036854775807B", math.MaxInt64, false},
		{"8388607TiB", 8388607 << 40, false},
	} {
		got, off, err := parseGoMemLimit(tt.in)
		if err != nil || got != tt.want || off != tt.off {
			t.Errorf("parseGoMemLimit(%q) = %d, %v, %v; want %d, %v, nil", tt.in, got, off, err, tt.want, tt.off)
		}
	}
	for _, in := range []string{
		"", "bogus", "-1", "-1KiB", "1.5GiB", "1k", "1kB", "1KB", "1kiB", "1KIB", "1g", "B", "iB", "KiB",
		"1iB", "1PiB", " 1", "1 ", "1 KiB", "Off", "OFF", "0x10", "1_000",
		"9223372036854775808", "9223372036854775807KiB", "8388608TiB", "-9223372036854775809",
	} {
		if got, off, err := parseGoMemLimit(in); err == nil {
			t.Errorf("parseGoMemLimit(%q) = %d, %v, nil; want an error", in, got, off)
		}
	}
}

// TestParseGoMemLimitMatchesRuntime starts this test binary with each value
// of GOMEMLIMIT and compares what the runtime made of it with
// parseGoMemLimit.
func TestParseGoMemLimitMatchesRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("cannot start processes")
	}
	for _, v := range []string{
		"off", "0", "-0", "+0", "1", "+1", "-1", "1B", "1KiB", "1MiB", "2GiB", "1TiB", "+1KiB", "-0KiB",
		"-KiB", "-", "bogus", "1k", "1kB", "1KB", "1kiB", "1PiB", "B", "iB", "KiB", "1iB", " 1", "1 ",
		"1.5GiB", "0x10", "1_000", "OFF", "Off", "9223372036854775807", "9223372036854775808",
		"9223372036854775807B", "8388607TiB", "8388608TiB", "18446744073709551616",
	} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMemoryLimit$", "-test.count=1")
			// GORACE: the race detector otherwise waits a second before exiting.
			cmd.Env = append(withoutGoMemLimit(os.Environ()), "GOMEMLIMIT="+v, helperEnv+"=1", "GORACE=atexit_sleep_ms=0")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			runtimeOK := runErr == nil
			if !runtimeOK && !strings.Contains(stderr.String(), "malformed GOMEMLIMIT") {
				t.Fatalf("helper failed: %v\n%s%s", runErr, stdout.String(), stderr.String())
			}
			got, off, err := parseGoMemLimit(v)
			if runtimeOK != (err == nil) {
				t.Fatalf("runtime accepts it: %v; parseGoMemLimit = %d, %v, %v", runtimeOK, got, off, err)
			}
			if !runtimeOK {
				return
			}
			if off {
				got = math.MaxInt64
			}
			want := fmt.Sprintf("%s%d\n", helperPrefix, got)
			if !strings.Contains(stdout.String(), want) {
				t.Fatalf("runtime's limit: %q; parseGoMemLimit says %d", stdout.String(), got)
			}
		})
	}
}

const (
	helperEnv    = "LIMITS_TEST_MEMORY_LIMIT_HELPER"
	helperPrefix = "memory limit: "
)

// TestHelperMemoryLimit is not a test: it prints the runtime's memory
// limit for TestParseGoMemLimitMatchesRuntime.
func TestHelperMemoryLimit(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestParseGoMemLimitMatchesRuntime")
	}
	fmt.Println(helperPrefix + strconv.FormatInt(debug.SetMemoryLimit(-1), 10))
}

func withoutGoMemLimit(environ []string) []string {
	out := environ[:0:0]
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") {
			out = append(out, kv)
		}
	}
	return out
}

package limits

import (
	"testing"
	"testing/fstest"
)

func TestParseCgroupMemoryLimit(t *testing.T) {
	for _, tt := range []struct {
		in      string
		limit   int64
		limited bool
	}{
		{"max\n", 0, false},
		{"max", 0, false},
		{"1073741824\n", 1 << 30, true},
		{"0\n", 0, true},
		{"9223372036854771712\n", 0, false}, // v1, 4 KiB pages: no limit
		{"9223372036854710272\n", 0, false}, // v1, 64 KiB pages: no limit
		{"18446744073709551615\n", 0, false},
	} {
		limit, limited, err := parseCgroupMemoryLimit(tt.in)
		if err != nil || limit != tt.limit || limited != tt.limited {
			t.Errorf("parseCgroupMemoryLimit(%q) = %d, %v, %v; want %d, %v, nil", tt.in, limit, limited, err, tt.limit, tt.limited)
		}
	}
	for _, in := range []string{"", "\n", "-1", "lots", "1G", "1.5", "max max", "18446744073709551616"} {
		if limit, limited, err := parseCgroupMemoryLimit(in); err == nil {
			t.Errorf("parseCgroupMemoryLimit(%q) = %d, %v, nil; want an error", in, limit, limited)
		}
	}
}

func TestParseProcCgroup(t *testing.T) {
	for _, tt := range []struct{ in, v2, v1 string }{
		{"0::/\n", "/", ""},
		{"0::/user.slice/session-1.scope\n", "/user.slice/session-1.scope", ""},
		{"12:memory:/docker/abc\n11:cpu,cpuacct:/docker/abc\n0::/\n", "/", "/docker/abc"},
		{"4:cpuacct,memory:/a\n", "", "/a"},
		{"1:name=systemd:/\n", "", ""},
		{"5:memoryx:/a\n", "", ""},
		{"0::/has:colon\n", "/has:colon", ""},
		{"garbage\n\n0:\n", "", ""},
		{"", "", ""},
	} {
		v2, v1 := parseProcCgroup(tt.in)
		if v2 != tt.v2 || v1 != tt.v1 {
			t.Errorf("parseProcCgroup(%q) = %q, %q; want %q, %q", tt.in, v2, v1, tt.v2, tt.v1)
		}
	}
}

func TestCgroupMemoryLimit(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tt := range []struct {
		name    string
		fs      fstest.MapFS
		limit   int64
		limited bool
	}{
		{"no /proc", fstest.MapFS{}, 0, false},
		{"v2 container", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("1073741824\n"),
		}, 1 << 30, true},
		{"v2 unlimited", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("max\n"),
		}, 0, false},
		{"v2 nested, ancestor limits", fstest.MapFS{
			"proc/self/cgroup":             file("0::/a/b\n"),
			"sys/fs/cgroup/a/b/memory.max": file("max\n"),
			"sys/fs/cgroup/a/memory.max":   file("2147483648\n"),
		}, 2 << 30, true},
		{"v2 nested, smallest wins", fstest.MapFS{
			"proc/self/cgroup":             file("0::/a/b\n"),
			"sys/fs/cgroup/a/b/memory.max": file("1073741824\n"),
			"sys/fs/cgroup/a/memory.max":   file("2147483648\n"),
		}, 1 << 30, true},
		{"v2 host path in a container", fstest.MapFS{
			"proc/self/cgroup":         file("0::/docker/abc\n"),
			"sys/fs/cgroup/memory.max": file("536870912\n"),
		}, 512 << 20, true},
		{"v2 outside the namespace", fstest.MapFS{
			"proc/self/cgroup":         file("0::/../..\n"),
			"sys/fs/cgroup/memory.max": file("536870912\n"),
			"sys/memory.max":           file("1\n"), // must not be read
		}, 512 << 20, true},
		{"v2 garbage", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("lots\n"),
		}, 0, false},
		{"v1 hybrid, unlimited", fstest.MapFS{
			"proc/self/cgroup": file("9:name=systemd:/\n4:memory:/process_api/76f5\n0::/\n"),
			"sys/fs/cgroup/memory/process_api/76f5/memory.limit_in_bytes": file("9223372036854771712\n"),
			"sys/fs/cgroup/memory/process_api/memory.limit_in_bytes":      file("9223372036854771712\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes":                  file("9223372036854771712\n"),
		}, 0, false},
		{"v1 limited", fstest.MapFS{
			"proc/self/cgroup": file("4:memory:/docker/x\n"),
			"sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes": file("268435456\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes":          file("9223372036854771712\n"),
		}, 256 << 20, true},
		{"v1 and v2", fstest.MapFS{
			"proc/self/cgroup":                           file("4:memory:/\n0::/\n"),
			"sys/fs/cgroup/memory.max":                   file("1073741824\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("536870912\n"),
		}, 512 << 20, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			limit, limited := cgroupMemoryLimit(tt.fs)
			if limit != tt.limit && tt.limited || limited != tt.limited {
				t.Fatalf("cgroupMemoryLimit = %d, %v; want %d, %v", limit, limited, tt.limit, tt.limited)
			}
		})
	}
}

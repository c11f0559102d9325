package limits

import (
	"errors"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
)

// Where cgroup file systems are mounted on every common distribution and
// container runtime. Reading /proc/self/mountinfo would find unusual mount
// points too, at the cost of a parser; a limit that is not found only
// leaves physical memory as the bound.
const (
	cgroupV2Root = "sys/fs/cgroup"
	cgroupV1Root = "sys/fs/cgroup/memory"
)

// cgroupMemoryLimit returns the smallest memory limit among the cgroups of
// the process and their ancestors (a cgroup's usage counts against every
// ancestor's limit), and false if there is none. fsys is the root file
// system.
//
// Each cgroup's directory is looked for below the mount point and then, one
// level at a time, up to the mount point itself: inside a container without
// its own cgroup namespace /proc/self/cgroup shows the host's path while the
// container's cgroup is mounted at the root.
func cgroupMemoryLimit(fsys fs.FS) (int64, bool) {
	data, err := fs.ReadFile(fsys, "proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	v2, v1 := parseProcCgroup(string(data))
	limit, limited := int64(math.MaxInt64), false
	walk := func(root, cgroup, file string) {
		// Clean as a rooted path so that ".." (seen for cgroups outside
		// our namespace) cannot climb above root.
		for dir := path.Join(root, path.Clean("/"+cgroup)); ; dir = path.Dir(dir) {
			if data, err := fs.ReadFile(fsys, path.Join(dir, file)); err == nil {
				if n, ok, err := parseCgroupMemoryLimit(string(data)); err == nil && ok {
					limit, limited = min(limit, n), true
				}
			}
			if dir == root {
				return
			}
		}
	}
	if v2 != "" {
		walk(cgroupV2Root, v2, "memory.max")
	}
	if v1 != "" {
		walk(cgroupV1Root, v1, "memory.limit_in_bytes")
	}
	return limit, limited
}

// parseProcCgroup returns the process's cgroup v2 path and its cgroup v1
// memory controller path from the contents of /proc/self/cgroup, whose lines
// are hierarchy-ID:controller-list:cgroup-path. Either is "" if absent.
func parseProcCgroup(contents string) (v2, v1Memory string) {
	for line := range strings.Lines(contents) {
		id, rest, ok := strings.Cut(strings.TrimRight(line, "\n"), ":")
		if !ok {
			continue
		}
		controllers, cgroupPath, ok := strings.Cut(rest, ":")
		if !ok || cgroupPath == "" {
			continue
		}
		if id == "0" && controllers == "" {
			v2 = cgroupPath
			continue
		}
		for c := range strings.SplitSeq(controllers, ",") {
			if c == "memory" {
				v1Memory = cgroupPath
			}
		}
	}
	return v2, v1Memory
}

// cgroupUnlimited is the value above which a cgroup memory limit means none.
// v1 reports "no limit" as MaxInt64 rounded down to the page size
// (9223372036854771712 with 4 KiB pages); no machine has 4 EiB.
const cgroupUnlimited = math.MaxInt64 / 2

// parseCgroupMemoryLimit parses the contents of a cgroup v2 memory.max
// ("max" or a byte count) or v1 memory.limit_in_bytes (a byte count).
// limited is false for no limit.
func parseCgroupMemoryLimit(contents string) (limit int64, limited bool, err error) {
	s := strings.TrimSpace(contents)
	if s == "max" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, errors.New("cgroup memory limit " + strconv.Quote(s) + " is not a byte count")
	}
	if n > cgroupUnlimited {
		return 0, false, nil
	}
	return int64(n), true, nil
}

package mapped

import "fmt"

// Mode is how a file is mapped: java.nio.channels.FileChannel.MapMode.
type Mode int

const (
	// ReadOnly maps the file for reading (PROT_READ, MAP_SHARED): writes
	// through the buffer return directmem.ErrReadOnly. The file must be
	// open for reading.
	ReadOnly Mode = iota
	// ReadWrite maps the file for reading and writing, shared (MAP_SHARED):
	// writes reach the file, and other mappings of it see them. The file
	// must be open for reading and writing.
	ReadWrite
	// Private maps the file copy-on-write (MAP_PRIVATE): writes change only
	// this mapping, never the file. As in the JVM, the file must be open
	// for reading and writing.
	Private
)

// String returns "READ_ONLY", "READ_WRITE" or "PRIVATE", MapMode's names.
func (m Mode) String() string {
	switch m {
	case ReadOnly:
		return "READ_ONLY"
	case ReadWrite:
		return "READ_WRITE"
	case Private:
		return "PRIVATE"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

func (m Mode) valid() bool { return m >= ReadOnly && m <= Private }

// Command mmapfile shows a file mapping's life: write a file through a
// ReadWrite mapping (FileChannel.map), Force it to disk, read it back
// through a ReadOnly mapping, then truncate the file under a live mapping
// and read past the cut. In Java, or with a plain mmap'd slice in Go, that
// read kills the process with SIGBUS; here it is an error, ErrFault.
package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/offheap-go/offheap/mapped"
)

func main() {
	dir, err := os.MkdirTemp("", "mmapfile")
	check(err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "records.dat")

	// 1. Write 4 pages of records through a ReadWrite mapping. The file is
	// created empty; the mapping extends it, as FileChannel.map does.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	check(err)
	const size = 4 * 4096
	w, err := mapped.Map(f, mapped.ReadWrite, 0, size)
	check(err)
	check(f.Close()) // the mapping outlives the file
	for i := range size / 8 {
		check(w.PutInt64(int64(i) * 3))
	}
	check(w.Force()) // msync: the records are on disk
	fi, err := os.Stat(path)
	check(err)
	fmt.Printf("1. wrote %d records through a ReadWrite mapping and forced them: file is %d bytes; %v\n", size/8, fi.Size(), w)
	check(w.Free()) // the Unmapper: unmapped now, not when the GC gets to it

	// 2. Read them back through a ReadOnly mapping of the last two pages,
	// at an offset that is not a multiple of the page size.
	r, err := mapped.MapFile(path, mapped.ReadOnly, 2*4096+8, 2*4096-8)
	check(err)
	v, err := r.GetInt64At(0)
	check(err)
	loaded, err := r.IsLoaded()
	check(err)
	fmt.Printf("2. ReadOnly mapping from offset %d: first record %d (want %d), resident %v, pool %+v\n",
		2*4096+8, v, (2*4096+8)/8*3, loaded, mapped.Stats())
	fmt.Printf("   a write through it: %v\n", r.PutInt64At(0, 1))

	// 3. Truncate the file under the live mapping, then read past the cut.
	check(os.Truncate(path, 4096))
	_, err = r.GetInt64At(r.Capacity() - 8)
	fmt.Printf("3. after truncating the file to one page, reading the mapping's last record: %v (errors.Is ErrFault: %v)\n",
		err, errors.Is(err, mapped.ErrFault))
	fmt.Printf("   Load: %v; the process is still running\n", r.Load())
	check(r.Free())
	fmt.Printf("4. freed: pool %+v\n", mapped.Stats())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

//go:build race

package directmem

// raceEnabled reports whether the package was built with -race. The leak
// tests use it to decide whether they can re-run their own binary to see
// the race detector catch a Free racing with a data method.
//
// The word the detector watches for that is owner.flags: Free writes it and
// every data method reads it, both as plain accesses (see owner.go), so no
// extra field is needed in race builds.
const raceEnabled = true

//go:build !race

package directmem

// raceEnabled reports whether the package was built with -race; see race.go.
const raceEnabled = false

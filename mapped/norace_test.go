//go:build !race

package mapped_test

// raceEnabled reports whether the tests are built with -race.
const raceEnabled = false

//go:build !race

package fundbatch_test

// raceEnabled: built with -race (see race_test.go).
const raceEnabled = false

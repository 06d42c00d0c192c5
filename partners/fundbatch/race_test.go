//go:build race

package fundbatch_test

// raceEnabled: built with -race, which slows TestHundredThousandRecords
// several times over; CI runs that test again without it.
const raceEnabled = true

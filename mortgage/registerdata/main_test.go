package registerdata_test

import (
	"bytes"
	"strings"
	"testing"

	"mortgaged/internal/pgtest"
	"mortgaged/mortgage/registerdata"
)

func TestMain(m *testing.M) { pgtest.Main(m, pgtest.Migrate) }

// demoFile generates a demo register of n units.
func demoFile(t testing.TB, n int, seed int64) (registerdata.Demo, []byte) {
	t.Helper()
	var buf bytes.Buffer
	d, err := registerdata.GenerateDemo(&buf, n, seed)
	if err != nil {
		t.Fatalf("GenerateDemo(%d, %d): %v", n, seed, err)
	}
	return d, buf.Bytes()
}

// lines splits a file into its lines, without the final empty one.
func lines(file []byte) []string {
	return strings.Split(strings.TrimSuffix(string(file), "\n"), "\n")
}

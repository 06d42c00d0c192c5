package registerdata_test

import (
	"encoding/json"
	"testing"

	"mortgaged/mortgage/registerdata"
)

// FuzzParseLine feeds arbitrary lines to the line parser: it must not
// panic, and a line it accepts must be accepted again after a round trip
// through the Unit type.
func FuzzParseLine(f *testing.F) {
	_, file := demoFile(f, 100, 1)
	for i, l := range lines(file) {
		if i%5 == 0 {
			f.Add([]byte(l))
		}
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"unitNumber":1}`, `{} {}`, `{"areaM2":true}`, `{"owners":[{"share":"1/0"}]}`,
		`{"unitNumber":"230202001001GB00001F00010001","location":"x","use":"residential","areaM2":1e400,"titleCertificateNumber":"黑（2020）齐齐哈尔市不动产权第0000001号","ownershipForm":"shares","owners":[{"name":"a","idType":"99","idNumber":"1","share":"999999/1000000"},{"name":"b","idType":"99","idNumber":"2","share":"1/1000000"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		u, errs := registerdata.ParseLine(line)
		if len(errs) > 0 {
			return
		}
		if u == nil {
			t.Fatal("no faults and no unit")
		}
		again, err := json.Marshal(u)
		if err != nil {
			t.Fatalf("marshal accepted unit: %v", err)
		}
		if _, errs := registerdata.ParseLine(again); len(errs) > 0 {
			t.Errorf("accepted line %q re-encoded as %q is refused: %v", line, again, errs)
		}
	})
}

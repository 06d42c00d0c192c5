package mortgage_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"mortgaged/mortgage"
)

// TestLargeBundleMaterialsStored: documents of a bundle over the one-statement
// size are stored one by one, each whole and in the order given, as the small
// bundles' single statement stores them.
func TestLargeBundleMaterialsStored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	big := func(kind string, fill byte) mortgage.Material {
		content := append(append([]byte(nil), pdf...), bytes.Repeat([]byte{fill}, 700<<10)...)
		sum := sha256.Sum256(content)
		return mortgage.Material{Kind: kind, FileName: kind + ".pdf", MediaType: "application/pdf", SHA256: hex.EncodeToString(sum[:]), Content: content}
	}
	for name, materials := range map[string][]mortgage.Material{
		"Small": {doc("application_form"), doc("loan_contract"), doc("mortgage_contract")},
		"Large": {big("application_form", 'a'), big("loan_contract", 'b'), doc("mortgage_contract")},
	} {
		t.Run(name, func(t *testing.T) {
			app := e.general(e.soleUnit(zhang))
			app.Materials = materials
			d := e.decide(app)
			var stored []struct {
				Seq     int    `db:"seq"`
				Kind    string `db:"kind"`
				Content []byte `db:"content"`
			}
			if err := e.db.Select(&stored, `SELECT seq, kind, content FROM materials WHERE bundle_id = $1 ORDER BY seq`, d.BundleID); err != nil {
				t.Fatal(err)
			}
			if len(stored) != len(materials) {
				t.Fatalf("%d materials stored, want %d", len(stored), len(materials))
			}
			for i, m := range stored {
				if m.Seq != i+1 || m.Kind != materials[i].Kind || !bytes.Equal(m.Content, materials[i].Content) {
					t.Errorf("material %d: seq %d kind %s, %d bytes; want seq %d kind %s, %d bytes", i, m.Seq, m.Kind, len(m.Content), i+1, materials[i].Kind, len(materials[i].Content))
				}
			}
		})
	}
}

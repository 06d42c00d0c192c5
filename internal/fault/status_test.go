package fault

import "testing"

// TestEveryKindHasAStatus: the table is the one place a status is chosen,
// so every kind must be in it, with a title, and no two kinds may share a
// status.
func TestEveryKindHasAStatus(t *testing.T) {
	seen := map[int]Kind{}
	for _, k := range Kinds() {
		e, ok := statuses[k]
		if !ok || e.status < 400 || e.title == "" {
			t.Errorf("kind %v: %+v in the table (%v)", k, e, ok)
		}
		if other, dup := seen[e.status]; dup {
			t.Errorf("kinds %v and %v share status %d", other, k, e.status)
		}
		seen[e.status] = k
	}
	if Kind(200).Status() != 500 || Kind(200).Title() != Internal.Title() {
		t.Error("an unknown kind is not answered as internal")
	}
}

package mortgage

import "testing"

func TestNamesNearlyMatch(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"张伟", "張偉", true},          // traditional characters
		{"欧阳娜娜", "欧阳 娜娜", true},     // a space
		{"阿不都·热合曼", "阿不都热合曼", true}, // a middle dot
		{"JOHN SMITH", "ＪＯＨＮ　ＳＭＩＴＨ", true},
		{"John Smith", "JOHN SMITH", true},
		{"张伟", "张伟", false}, // equal is not "near"
		{"张伟", "张玮", false}, // a different character is a different name
		{"李娜", "李娜娜", false},
	} {
		if got := NamesNearlyMatch(c.a, c.b); got != c.want {
			t.Errorf("NamesNearlyMatch(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestUpgradeResidentID(t *testing.T) {
	t.Parallel()
	// The standard's example 11010519491231002X was, before 1999, 110105491231002.
	if got, ok := UpgradeResidentID("110105491231002"); !ok || got != "11010519491231002X" {
		t.Errorf("UpgradeResidentID = %q, %v; want 11010519491231002X", got, ok)
	}
	if !IsOldResidentID("110105491231002") {
		t.Error("the standard's example is an old ID")
	}
	for _, bad := range []string{"11010549123100", "11010549123100X", "110105491331002", "1101054912310021"} {
		if IsOldResidentID(bad) {
			t.Errorf("IsOldResidentID(%q)", bad)
		}
	}
}

package pii

import "testing"

func TestMaskID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"resident ID keeps 6 and 4", "11010519491231002X", "110105********002X"},
		{"credit code keeps 6 and 4", "91310000631295002H", "913100********002H"},
		{"11 runes masks one", "12345678901", "123456*8901"},
		{"10 runes all stars", "1234567890", "**********"},
		{"empty stays empty", "", ""},
		{"short multibyte all stars per rune", "张三李四", "****"},
		{"multibyte kept by rune", "黑龙江省齐齐哈尔市龙沙区", "黑龙江省齐齐**市龙沙区"},
		{"invalid UTF-8 becomes replacement", "\xff\xff\xff", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskID(tt.in); got != tt.want {
				t.Errorf("MaskID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"two runes keeps surname", "张三", "张*"},
		{"four runes keeps first", "欧阳娜娜", "欧***"},
		{"one rune all stars", "张", "*"},
		{"empty stays empty", "", ""},
		{"latin name", "Alice", "A****"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskName(tt.in); got != tt.want {
				t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

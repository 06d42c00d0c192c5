package mortgage

import (
	"strings"
	"unicode"
)

// A near match is a difference between what a bank sent and what the
// register says that a person should look at rather than a rule refuse:
// the same name written with full-width letters, extra spaces or a
// traditional character, or an owner's old 15-digit ID number.

// traditionalToSimplified covers traditional characters that commonly
// appear in names registered before simplification was applied uniformly.
// It is deliberately small: a human decides, the table only routes.
var traditionalToSimplified = map[rune]rune{
	'張': '张', '陳': '陈', '劉': '刘', '趙': '赵', '黃': '黄', '吳': '吴', '孫': '孙', '鄭': '郑',
	'馬': '马', '楊': '杨', '許': '许', '韓': '韩', '馮': '冯', '蕭': '萧', '葉': '叶', '鍾': '钟',
	'盧': '卢', '蔣': '蒋', '龍': '龙', '閻': '阎', '譚': '谭', '魯': '鲁', '錢': '钱', '湯': '汤',
	'陸': '陆', '顧': '顾', '賀': '贺', '蘇': '苏', '鄧': '邓', '關': '关', '萬': '万',
	'偉': '伟', '華': '华', '國': '国', '東': '东', '軍': '军', '紅': '红', '麗': '丽', '鳳': '凤',
	'強': '强', '傑': '杰', '貴': '贵', '寶': '宝', '義': '义', '廣': '广', '興': '兴', '軒': '轩',
	'輝': '辉', '靜': '静', '濤': '涛', '鵬': '鹏', '愛': '爱',
	'慶': '庆', '瑩': '莹', '鳴': '鸣', '運': '运', '達': '达', '蓮': '莲', '嬌': '娇',
}

// normalName folds width, spacing and common traditional characters, so two
// spellings of one name compare equal.
func normalName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || r == '·' || r == '•' || r == '．' || r == '.':
			continue // 欧阳 娜娜, 阿不都·热合曼
		case r >= '！' && r <= '～':
			r -= 0xFEE0 // full-width ASCII to half-width
		case r == '\u3000':
			continue
		}
		if s, ok := traditionalToSimplified[r]; ok {
			r = s
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// NamesNearlyMatch reports whether two different spellings are one name.
func NamesNearlyMatch(a, b string) bool {
	return a != b && normalName(a) == normalName(b)
}

// UpgradeResidentID turns an old 15-digit resident ID (before 1999: 6-digit
// division, YYMMDD, 3-digit sequence) into its 18-digit form: the century
// 19 is inserted and the GB 11643 check character appended.
func UpgradeResidentID(old string) (string, bool) {
	if len(old) != 15 {
		return "", false
	}
	for i := range len(old) {
		if !isDigit(old[i]) {
			return "", false
		}
	}
	first17 := old[:6] + "19" + old[6:]
	return first17 + string(ResidentIDCheckChar(first17)), true
}

// IsOldResidentID reports whether id is a well-formed 15-digit resident ID
// with a real birth date.
func IsOldResidentID(id string) bool {
	full, ok := UpgradeResidentID(id)
	if !ok {
		return false
	}
	y, m, d := digits(full[6:10]), digits(full[10:12]), digits(full[12:14])
	return isCalendarDate(y, m, d)
}

// Must returns v, panicking when ok is false; for fixed test data.
func Must[T any](v T, ok bool) T {
	if !ok {
		panic("mortgage.Must: not ok")
	}
	return v
}

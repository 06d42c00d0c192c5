package console

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/go-json-experiment/json/jsontext"
)

// strictJSON refuses settings JSON that says two things or cannot be
// stored: a member named twice in one object, however it is escaped
// ({"aboveFen": 1, "above\u0046en": 2}), strings that are not UTF-8, and
// control characters such as an escaped NUL, which PostgreSQL's jsonb
// refuses. encoding/json, which reads the settings afterwards, would let the
// last of two values win unseen (PROMISES S7 holds for staff as for
// partners).
func strictJSON(b []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.ReadToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var se *jsontext.SyntacticError
		switch {
		case errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName):
			return fmt.Errorf("JSON 中 %s 出现了两次，每个名称只能写一次", se.JSONPointer)
		case err != nil:
			return errors.New("不是合法的 JSON（须为一个 JSON 值，UTF-8 编码）")
		case tok.Kind() == '"' && strings.IndexFunc(tok.String(), func(r rune) bool {
			return unicode.Is(unicode.Cc, r) && r != '\t' && r != '\n' && r != '\r'
		}) >= 0:
			return fmt.Errorf("JSON 的 %s 处含有控制字符（如 \\u0000）", dec.StackPointer())
		}
	}
}

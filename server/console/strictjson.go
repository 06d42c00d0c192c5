package console

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// strictJSON refuses settings JSON that says two things: a member named
// twice in one object, however it is escaped ({"aboveFen": 1,
// "above\u0046en": 2}), or strings that are not UTF-8. encoding/json, which
// reads the settings afterwards, would let the last value win unseen
// (PROMISES S7 holds for staff as for partners).
func strictJSON(b []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	_, err := dec.ReadValue()
	if err == nil {
		if _, err = dec.ReadToken(); errors.Is(err, io.EOF) {
			return nil
		}
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName) {
		return fmt.Errorf("JSON 中 %s 出现了两次，每个名称只能写一次", se.JSONPointer)
	}
	return errors.New("不是合法的 JSON（须为一个 JSON 值，UTF-8 编码）")
}

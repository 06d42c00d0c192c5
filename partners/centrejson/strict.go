package centrejson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"mortgaged/mortgage"
)

// CodeDuplicateKey is a member name that appears twice in one object,
// however it is spelled ("a" and "\u0061" are the same name).
const CodeDuplicateKey mortgage.Code = "json_duplicate_key"

// strictOptions are the rules every JSON from outside is read under
// (PROMISES S7): names match exactly, including case; a name twice in one
// object, a name the type does not have and invalid UTF-8 are refused.
// encoding/json would match "PRINCIPALAMOUNT" to principalAmount and let the
// last of two values win: what a bundle says would not be what is registered.
var strictOptions = jsonv2.JoinOptions(
	jsonv2.RejectUnknownMembers(true),
	jsonv2.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// Strict reads body, one JSON value, into v under the strict rules. A
// byte-order mark is skipped. The error names the field as a path
// ("mortgage.principalAmount", "materials[1].kind") where there is one.
func Strict(body []byte, v any) *SyntaxError {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // some core systems write a UTF-8 byte-order mark
	if len(bytes.TrimSpace(body)) == 0 {
		return &SyntaxError{Code: CodeEmpty, Message: "请求体为空"}
	}
	// A bytes.Buffer is parsed in place: a 30 MB bundle is not copied again.
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), strictOptions)
	if err := jsonv2.UnmarshalDecode(dec, v, strictOptions); err != nil {
		return strictError(err)
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return &SyntaxError{Code: CodeTrailing, Message: "JSON 文档之后还有多余内容"}
	}
	return nil
}

func strictError(err error) *SyntaxError {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		f := fieldPath(syn.JSONPointer)
		return &SyntaxError{Field: f, Code: CodeDuplicateKey,
			Message: fmt.Sprintf("字段 %s 重复出现（包括大小写相同的转义写法）：同一对象中每个字段只能出现一次", f)}
	case errors.As(err, &syn) && errors.Is(syn.Err, io.ErrUnexpectedEOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &SyntaxError{Code: CodeMalformed, Message: "JSON 文档不完整"}
	case errors.As(err, &syn):
		return &SyntaxError{Field: fieldPath(syn.JSONPointer), Code: CodeMalformed,
			Message: fmt.Sprintf("JSON 格式错误（第 %d 字节附近）：%s", syn.ByteOffset, strings.TrimPrefix(syn.Err.Error(), "jsontext: "))}
	case errors.As(err, &sem) && errors.Is(sem.Err, jsonv2.ErrUnknownName):
		f := fieldPath(sem.JSONPointer)
		return &SyntaxError{Field: f, Code: CodeUnknownField, Message: fmt.Sprintf("未知字段 %s（JSON v1 格式中没有此字段，请检查拼写和大小写）", f)}
	case errors.As(err, &sem):
		f := fieldPath(sem.JSONPointer)
		want := "值"
		if sem.GoType != nil {
			want = jsonKind(sem.GoType.Kind().String())
		}
		if f == "" {
			return &SyntaxError{Code: CodeWrongType, Message: fmt.Sprintf("请求体的类型应为%s，收到的是%s", want, kindName(sem.JSONKind))}
		}
		return &SyntaxError{Field: f, Code: CodeWrongType, Message: fmt.Sprintf("字段 %s 的类型应为%s，收到的是%s", f, want, kindName(sem.JSONKind))}
	}
	return &SyntaxError{Code: CodeMalformed, Message: "JSON 格式错误"}
}

// fieldPath writes a JSON pointer as the field paths of problem answers:
// /materials/1/kind is materials[1].kind.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.ParseUint(tok, 10, 32); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return mortgage.Clip(b.String())
}

// kindName names, in Chinese, the kind of JSON value found.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "字符串"
	case '0':
		return "数字"
	case 't', 'f':
		return "布尔值"
	case '[':
		return "数组"
	case '{':
		return "对象"
	case 'n':
		return "null"
	}
	return "其他值"
}

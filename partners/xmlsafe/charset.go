package xmlsafe

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mortgaged/mortgage"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// declEncoding finds the encoding in an XML declaration at the very start.
var declEncoding = regexp.MustCompile(`^<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']`)

// utf8Source returns r as UTF-8: a byte-order mark is dropped and a document
// declared as GBK, GB2312 or GB18030 is decoded (GB18030 is a superset of
// both). UTF-8 and US-ASCII pass as they are; anything else is refused.
func utf8Source(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 512)
	head, err := br.Peek(256)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
		head = head[3:]
	}
	m := declEncoding.FindSubmatch(head)
	if m == nil {
		return br, nil
	}
	switch enc := strings.ToUpper(string(m[1])); enc {
	case "UTF-8", "UTF8", "US-ASCII", "ASCII":
		return br, nil
	case "GBK", "GB2312", "GB18030", "CP936", "EUC-CN":
		return transform.NewReader(br, transform.Chain(simplifiedchinese.GB18030.NewDecoder(), &noReplacement{line: 1})), nil
	default:
		return nil, &Error{Code: CodeEncoding, Line: 1,
			Message: fmt.Sprintf("不支持的字符编码 %s：请使用 UTF-8（也接受 GBK、GB2312、GB18030）", mortgage.Clip(string(m[1])))}
	}
}

// noReplacement refuses the replacement character U+FFFD in decoded text.
// The GB18030 decoder writes it for bytes that are no character; passed on,
// a name with a broken byte would be registered as a different name. A
// document that really means U+FFFD has no business in a register either.
type noReplacement struct {
	line int // of the decoded text, for the message
}

func (t *noReplacement) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		r, size := utf8.DecodeRune(src[nSrc:])
		if r == utf8.RuneError && size <= 1 && !atEOF && !utf8.FullRune(src[nSrc:]) {
			return nDst, nSrc, transform.ErrShortSrc
		}
		if r == utf8.RuneError {
			return nDst, nSrc, &Error{Code: CodeInvalidBytes, Line: t.line,
				Message: fmt.Sprintf("第 %d 行有不属于所声明编码（GBK/GB18030）的字节：请检查文件的实际编码与 XML 声明是否一致", t.line)}
		}
		if nDst+size > len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		if r == '\n' {
			t.line++
		}
		nDst += copy(dst[nDst:], src[nSrc:nSrc+size])
		nSrc += size
	}
	return nDst, nSrc, nil
}

func (t *noReplacement) Reset() { t.line = 1 }

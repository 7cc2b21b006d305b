package eventout

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// TextTimeLayout is the time format of text lines (local time).
const TextTimeLayout = "15:04:05.000"

// AppendText appends e as one readable line:
//
//	10:00:00.123 pbx1 Hangup Channel=PJSIP/100-0001 Cause=16 Cause-txt="Normal Clearing"
//
// Values that are empty or contain spaces, quotes or control characters are
// quoted (Go syntax); the Event header is left out (it is the third field).
func AppendText(dst []byte, e Event) []byte {
	dst = e.ReceivedAt().AppendFormat(dst, TextTimeLayout)
	dst = append(dst, ' ')
	dst = appendTextValue(dst, e.Server())
	dst = append(dst, ' ')
	dst = appendTextValue(dst, e.Name())
	for i := range e.Len() {
		h := e.Header(i)
		if strings.EqualFold(h.Key, "Event") {
			continue
		}
		dst = append(dst, ' ')
		dst = appendTextValue(dst, h.Key)
		dst = append(dst, '=')
		dst = appendTextValue(dst, h.Value)
	}
	return dst
}

func appendTextValue(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, `""`...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '"' || c == '\\' || c == 0x7f || c == '=' && i == 0 {
			return strconv.AppendQuote(dst, s)
		}
	}
	if !utf8.ValidString(s) {
		return strconv.AppendQuote(dst, s)
	}
	return append(dst, s...)
}

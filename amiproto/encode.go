package amiproto

import "strconv"

// MaxLineLength is the longest header line, "Key: Value\r\n" included,
// that the encoder writes. Asterisk reads at most 1024 bytes per line and
// silently cuts longer lines, so AppendAction refuses them.
const MaxLineLength = 1024

// MaxHeaders is the most header lines in one action, the Action line
// included. Asterisk keeps at most 128 and silently drops the rest, so
// AppendAction refuses more.
const MaxHeaders = 128

// AppendAction appends an action frame to dst: "Action: name\r\n", then
// "ActionID: actionID\r\n" if actionID is not empty, then headers in order,
// then the empty line. It refuses (with an *EncodeError) an empty name, an
// invalid key, a value containing CR, LF or NUL, a line longer than
// MaxLineLength and more than MaxHeaders lines in total; on error dst is
// returned unchanged (same length). It does not allocate beyond growing dst.
func AppendAction(dst []byte, name, actionID string, headers []Header) ([]byte, error) {
	if name == "" {
		return dst, &EncodeError{Err: ErrInvalidHeader, Key: "Action", Index: -1, Reason: "empty action name"}
	}
	if err := checkLine("Action", name, -1, true); err != nil {
		return dst, err
	}
	lines := 1 + len(headers)
	if actionID != "" {
		lines++
		if err := checkLine("ActionID", actionID, -1, true); err != nil {
			return dst, err
		}
	}
	if lines > MaxHeaders {
		return dst, &EncodeError{Err: ErrTooManyHeaders, Index: -1,
			Reason: strconv.Itoa(lines) + " lines, at most " + strconv.Itoa(MaxHeaders)}
	}
	for i := range headers {
		if err := checkLine(headers[i].Key, headers[i].Value, i, true); err != nil {
			return dst, err
		}
	}
	out := appendLine(dst, "Action", name)
	if actionID != "" {
		out = appendLine(out, "ActionID", actionID)
	}
	for i := range headers {
		out = appendLine(out, headers[i].Key, headers[i].Value)
	}
	return append(out, '\r', '\n'), nil
}

// AppendFrame appends headers then the empty line to dst. The fake server
// uses it for responses and events. It refuses (with an *EncodeError) an
// empty header list, an invalid key and a value containing CR, LF or NUL;
// on error dst is returned unchanged. Unlike AppendAction it does not apply
// MaxLineLength and MaxHeaders, which bound what Asterisk reads, not what it
// writes (a Command reply may carry thousands of Output lines).
func AppendFrame(dst []byte, headers []Header) ([]byte, error) {
	if len(headers) == 0 {
		return dst, &EncodeError{Err: ErrInvalidHeader, Index: -1, Reason: "frame without headers"}
	}
	for i := range headers {
		if err := checkLine(headers[i].Key, headers[i].Value, i, false); err != nil {
			return dst, err
		}
	}
	out := dst
	for i := range headers {
		out = appendLine(out, headers[i].Key, headers[i].Value)
	}
	return append(out, '\r', '\n'), nil
}

// checkLine validates one header. The error names the key, never the value.
func checkLine(key, value string, index int, lineLimit bool) error {
	if !ValidKey(key) {
		return &EncodeError{Err: ErrInvalidHeader, Key: printableKey(key), Index: index, Reason: "invalid key"}
	}
	for i := 0; i < len(value); i++ {
		switch value[i] {
		case '\r':
			return &EncodeError{Err: ErrInvalidHeader, Key: key, Index: index, Reason: "value contains CR"}
		case '\n':
			return &EncodeError{Err: ErrInvalidHeader, Key: key, Index: index, Reason: "value contains LF"}
		case 0:
			return &EncodeError{Err: ErrInvalidHeader, Key: key, Index: index, Reason: "value contains NUL"}
		}
	}
	if n := len(key) + len(value) + 4; lineLimit && n > MaxLineLength {
		return &EncodeError{Err: ErrLineTooLong, Key: key, Index: index,
			Reason: "line of " + strconv.Itoa(n) + " bytes, at most " + strconv.Itoa(MaxLineLength)}
	}
	return nil
}

// printableKey makes an invalid key safe to show in an error text: it is
// cut to 64 bytes (an over-long "key" may really be a misplaced value).
func printableKey(k string) string {
	if len(k) > 64 {
		return k[:64] + "..."
	}
	return k
}

func appendLine(dst []byte, key, value string) []byte {
	dst = append(dst, key...)
	dst = append(dst, ':', ' ')
	dst = append(dst, value...)
	return append(dst, '\r', '\n')
}

package compose

import (
	"errors"
	"strings"

	"github.com/stet-dev/stet/scan/internal/yamlref"
)

var errFormat = errors.New("invalid interpolation format")

// interpolate substitutes compose variables in s the way `docker compose`
// does when none of them is set in the environment: ${VAR:-default} and
// ${VAR-default} give their default (interpolated in turn), ${VAR:+alt} and
// ${VAR+alt} give "", and $$ is a literal $. A variable with no static value
// ($VAR, ${VAR}, ${VAR:?err}, ${VAR?err}) becomes yamlref.Unknown.
func interpolate(s string) (string, error) {
	if strings.IndexByte(s, '$') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i += 2
		case next == '{':
			end, err := closing(s, i+2)
			if err != nil {
				return "", err
			}
			v, err := braced(s[i+2 : end])
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i = end + 1
		case isNameStart(next):
			j := i + 2
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			b.WriteString(yamlref.Unknown)
			i = j
		default:
			// Compose rejects a lone $ before anything else; keep it literally,
			// the image parser will refuse it.
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), nil
}

// closing returns the index of the '}' that closes a ${ whose body starts at
// start, counting nested ${…}.
func closing(s string, start int) (int, error) {
	depth := 0
	for i := start; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '$':
			i++
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case s[i] == '}':
			if depth == 0 {
				return i, nil
			}
			depth--
		}
	}
	return 0, errFormat
}

// braced evaluates the body of ${…}.
func braced(body string) (string, error) {
	j := 0
	for j < len(body) && isNameChar(body[j]) {
		j++
	}
	if j == 0 || !isNameStart(body[0]) {
		return "", errFormat
	}
	op := body[j:]
	switch {
	case op == "":
		return yamlref.Unknown, nil
	case strings.HasPrefix(op, ":-"):
		return interpolate(op[2:])
	case strings.HasPrefix(op, "-"):
		return interpolate(op[1:])
	case strings.HasPrefix(op, ":?"), strings.HasPrefix(op, "?"):
		return yamlref.Unknown, nil
	case strings.HasPrefix(op, ":+"), strings.HasPrefix(op, "+"):
		// The alternative applies only when the variable is set.
		alt := op[strings.IndexByte(op, '+')+1:]
		if _, err := interpolate(alt); err != nil {
			return "", err
		}
		return "", nil
	}
	return "", errFormat
}

func isNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isNameChar(c byte) bool { return isNameStart(c) || ('0' <= c && c <= '9') }

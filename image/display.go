package image

import "strings"

// ShortDigest cuts a digest to its algorithm and first 12 hex digits
// (sha256:0123456789ab), the length docker shows and people recognise;
// anything shorter or without an algorithm is returned as it is.
func ShortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

// StepLine puts a layer's CreatedBy on one line of at most n runes: white
// space folded, the "/bin/sh -c " and "#(nop) " wrappers of Docker's
// classic builder taken off, and an ellipsis where the step is cut.
func StepLine(createdBy string, n int) string {
	s := strings.Join(strings.Fields(createdBy), " ")
	s = strings.TrimPrefix(s, "/bin/sh -c ")
	s = strings.TrimPrefix(s, "#(nop) ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}

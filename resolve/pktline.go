package resolve

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stet-dev/stet/ref"
)

// ErrProtocol is wrapped by errors about a malformed git smart-HTTP answer.
var ErrProtocol = errors.New("malformed git protocol response")

// gitRefs is a repository's ref advertisement: ref name → commit, with
// annotated tags peeled to the commit they point at.
type gitRefs struct {
	refs map[string]string
}

// parseAdvertisement reads the answer to GET info/refs?service=git-upload-pack
// in protocol v0 or v1: an optional "# service=" section, an optional
// "version 1" line, then one "<oid> <refname>" pkt-line per ref (the first
// carrying capabilities after a NUL) and "<oid> <tag>^{}" lines giving
// what annotated tags peel to.
func parseAdvertisement(data []byte) (*gitRefs, error) {
	lines, err := pktLines(data)
	if err != nil {
		return nil, err
	}
	if len(lines) > 0 && lines[0] != nil && bytes.HasPrefix(lines[0], []byte("# service=")) {
		lines = lines[1:]
		// The service announcement is followed by a flush packet.
		if len(lines) > 0 && lines[0] == nil {
			lines = lines[1:]
		}
	}
	if len(lines) > 0 && lines[0] != nil && string(bytes.TrimRight(lines[0], "\n")) == "version 1" {
		lines = lines[1:]
	}
	if len(lines) > 0 && lines[0] != nil && string(bytes.TrimRight(lines[0], "\n")) == "version 2" {
		return nil, fmt.Errorf("%w: server answered protocol v2 unasked", ErrProtocol)
	}
	g := &gitRefs{refs: map[string]string{}}
	peeled := map[string]string{}
	for i, l := range lines {
		if l == nil {
			break
		}
		l = bytes.TrimRight(l, "\n")
		if i == 0 {
			if j := bytes.IndexByte(l, 0); j >= 0 {
				l = l[:j]
			}
		}
		oid, refName, ok := strings.Cut(string(l), " ")
		if !ok || !isOID(oid) || refName == "" {
			if bytes.HasPrefix(l, []byte("ERR ")) {
				return nil, fmt.Errorf("%w: server error: %s", ErrProtocol, l[4:])
			}
			return nil, fmt.Errorf("%w: bad ref line %q", ErrProtocol, truncate(string(l), 80))
		}
		if refName == "capabilities^{}" {
			continue // an empty repository
		}
		if base, ok := strings.CutSuffix(refName, "^{}"); ok {
			peeled[base] = oid
			continue
		}
		g.refs[refName] = oid
	}
	for name, oid := range peeled {
		g.refs[name] = oid
	}
	return g, nil
}

// pktLines splits data into pkt-lines; a flush packet ("0000") is a nil
// element, delim ("0001") and response-end ("0002") packets are dropped.
func pktLines(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 4 {
			return nil, fmt.Errorf("%w: truncated pkt-line length", ErrProtocol)
		}
		n, err := strconv.ParseUint(string(data[:4]), 16, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: bad pkt-line length %q", ErrProtocol, data[:4])
		}
		switch {
		case n == 0:
			out = append(out, nil)
			data = data[4:]
			continue
		case n == 1 || n == 2:
			data = data[4:]
			continue
		case n < 4:
			return nil, fmt.Errorf("%w: bad pkt-line length %d", ErrProtocol, n)
		case int(n) > len(data):
			return nil, fmt.Errorf("%w: pkt-line of %d bytes with %d left", ErrProtocol, n, len(data))
		}
		out = append(out, data[4:n])
		data = data[n:]
	}
	return out, nil
}

func isOID(s string) bool {
	return ref.IsCommit(s) || (len(s) == 64 && strings.Trim(s, "0123456789abcdef") == "")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// lookup resolves a tag or branch name the way git does for an
// unqualified name: a tag wins over a branch of the same name. A fully
// qualified refs/… name is taken as is.
func (g *gitRefs) lookup(name string) (string, string, bool) {
	if strings.HasPrefix(name, "refs/") {
		oid, ok := g.refs[name]
		return oid, name, ok
	}
	for _, full := range []string{"refs/tags/" + name, "refs/heads/" + name} {
		if oid, ok := g.refs[full]; ok {
			return oid, full, true
		}
	}
	return "", "", false
}

// tagsAt lists the tag names (without refs/tags/) pointing at commit.
func (g *gitRefs) tagsAt(commit string) []string {
	var out []string
	for name, oid := range g.refs {
		if oid != commit {
			continue
		}
		if t, ok := strings.CutPrefix(name, "refs/tags/"); ok {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

package inventory

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/stet-dev/stet/scan"
)

// Package types.
const (
	TypeAPK = "apk"
	TypeDeb = "deb"
	TypeRPM = "rpm"
)

// maxLine caps one line of a text package database; real fields (long
// dependency lists, descriptions) stay far below it.
const maxLine = 1 << 20

// eachLine calls fn with every line of a text package database and its
// 1-based number, without the line ending (LF or CRLF). It refuses a line
// longer than maxLine so that a hostile database cannot make a parser hold
// an unbounded field, and stops at the first error fn returns.
func eachLine(file string, data []byte, fn func(line int, l []byte) error) error {
	line := 0
	for rest := data; len(rest) > 0; {
		var l []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			l, rest = rest[:i], rest[i+1:]
		} else {
			l, rest = rest, nil
		}
		line++
		if len(l) > maxLine {
			return scan.Errorf(file, line, 1, "line longer than %d bytes", maxLine)
		}
		if err := fn(line, bytes.TrimSuffix(l, []byte("\r"))); err != nil {
			return err
		}
	}
	return nil
}

// ParseDpkgStatus reads a dpkg status file (or one file of a distroless
// status.d directory) and returns the installed packages. Stanzas whose
// Status is not "installed" (removed, config-files, half-installed) are left
// out; a stanza without Status, as distroless writes them, counts as
// installed. file names the database in errors.
func ParseDpkgStatus(file string, data []byte) ([]Package, error) {
	var out []Package
	var cur map[string]string
	var last string
	startLine := 0
	flush := func() error {
		if cur == nil {
			return nil
		}
		defer func() { cur = nil; last = "" }()
		if st, ok := cur["status"]; ok {
			f := strings.Fields(st)
			if len(f) != 3 || f[2] != "installed" {
				return nil
			}
		}
		p := Package{Type: TypeDeb, Name: cur["package"], Version: cur["version"], Arch: cur["architecture"]}
		if p.Name == "" {
			return scan.Errorf(file, startLine, 1, "package stanza without a Package field")
		}
		if p.Version == "" {
			return scan.Errorf(file, startLine, 1, "package %s has no Version", p.Name)
		}
		if src := cur["source"]; src != "" {
			// "Source: name (version)" when the source version differs.
			name, ver, _ := strings.Cut(src, " ")
			p.Source = name
			p.SourceVersion = strings.Trim(strings.TrimSpace(ver), "()")
		}
		out = append(out, p)
		return nil
	}
	err := eachLine(file, data, func(line int, l []byte) error {
		if len(bytes.TrimSpace(l)) == 0 {
			return flush()
		}
		if l[0] == ' ' || l[0] == '\t' {
			if cur == nil || last == "" {
				return scan.Errorf(file, line, 1, "continuation line outside a field")
			}
			return nil // continuation of a multi-line field: never one we keep
		}
		k, v, ok := bytes.Cut(l, []byte(":"))
		if !ok || len(k) == 0 {
			return scan.Errorf(file, line, 1, "expected \"Field: value\", got %q", truncate(string(l), 60))
		}
		if cur == nil {
			cur = map[string]string{}
			startLine = line
		}
		last = strings.ToLower(string(k))
		switch last {
		case "package", "status", "version", "architecture", "source":
			cur[last] = string(bytes.TrimSpace(v))
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ParseAPKInstalled reads an apk installed database (lib/apk/db/installed):
// blank-line separated records of "K:value" lines, P name, V version, A
// architecture, o origin (the source package).
func ParseAPKInstalled(file string, data []byte) ([]Package, error) {
	var out []Package
	var cur *Package
	start := 0
	flush := func() error {
		if cur == nil {
			return nil
		}
		p := *cur
		cur = nil
		if p.Name == "" {
			return scan.Errorf(file, start, 1, "package record without a P: line")
		}
		if p.Version == "" {
			return scan.Errorf(file, start, 1, "package %s has no V: line", p.Name)
		}
		out = append(out, p)
		return nil
	}
	err := eachLine(file, data, func(line int, l []byte) error {
		if len(l) == 0 {
			return flush()
		}
		if len(l) < 2 || l[1] != ':' {
			return scan.Errorf(file, line, 1, "expected \"K:value\", got %q", truncate(string(l), 60))
		}
		if cur == nil {
			cur = &Package{Type: TypeAPK}
			start = line
		}
		v := string(l[2:])
		switch l[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Arch = v
		case 'o':
			cur.Source = v
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OS is what /etc/os-release says about the distribution.
type OS struct {
	ID              string `json:"id"`
	IDLike          string `json:"idLike,omitempty"`
	Name            string `json:"name,omitempty"`
	PrettyName      string `json:"prettyName,omitempty"`
	VersionID       string `json:"versionID,omitempty"`
	VersionCodename string `json:"versionCodename,omitempty"`
}

// ParseOSRelease reads an os-release file: KEY=value lines, values
// optionally quoted with shell quoting rules (os-release(5)).
func ParseOSRelease(file string, data []byte) (*OS, error) {
	os := &OS{}
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return nil, scan.Errorf(file, i+1, 1, "expected KEY=value, got %q", truncate(l, 60))
		}
		v = unquote(v)
		switch k {
		case "ID":
			os.ID = v
		case "ID_LIKE":
			os.IDLike = v
		case "NAME":
			os.Name = v
		case "PRETTY_NAME":
			os.PrettyName = v
		case "VERSION_ID":
			os.VersionID = v
		case "VERSION_CODENAME":
			os.VersionCodename = v
		}
	}
	if os.ID == "" {
		os.ID = "linux" // os-release(5): the default when ID is absent
	}
	return os, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		q := v[0]
		v = v[1 : len(v)-1]
		if q == '"' {
			var b strings.Builder
			for i := 0; i < len(v); i++ {
				if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0 {
					i++
				}
				b.WriteByte(v[i])
			}
			return b.String()
		}
	}
	return v
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// dbError wraps a database error with the layer it was read from.
func dbError(layer int, err error) error {
	return fmt.Errorf("layer %d: %w", layer, err)
}

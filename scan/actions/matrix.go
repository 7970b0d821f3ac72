package actions

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/scan/internal/yamlref"
)

// matrixRE matches a value that is one matrix property and nothing else:
// ${{ matrix.image }}. A property inside a longer value (node:${{
// matrix.version }}) builds a reference the file does not write whole.
var matrixRE = regexp.MustCompile(`^\$\{\{\s*matrix\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}$`)

// matrixImages reports the images that the value ${{ matrix.<name> }} of
// the scalar use takes, when the job's matrix writes every one of them: one
// reference per value, at the value in the matrix and edited there, with
// the context of the use, an arrow and the value's place in the matrix
// (jobs.test.container ← matrix.image[1]). It returns false, and reports
// nothing, when the value is not a matrix property or any value it may
// take is not written in the file.
func (s *scanner) matrixImages(use *yaml.Node, value, ctx string, skip int) bool {
	m := matrixRE.FindStringSubmatch(value)
	if m == nil {
		return false
	}
	// Jobs that share a matrix by alias read it once per property.
	key := matrixKey{s.matrix, strings.ToLower(m[1])}
	read, done := s.matrices[key]
	if !done {
		read.vals, read.ok = matrixValues(s.matrix, m[1])
		s.matrices[key] = read
	}
	vals, ok := read.vals, read.ok
	if !ok {
		return false
	}
	s.seen[use] = true
	first := len(s.res.Refs)
	defer func() {
		if s.compared(m[1]) {
			// A pin would change what the comparison sees: the values are
			// reported as they are, but not edited.
			for i := first; i < len(s.res.Refs); i++ {
				s.res.Refs[i].Edit = nil
			}
		}
	}()
	for _, v := range vals {
		vskip := 0
		if t, _ := yamlref.Text(v.node); skip == 0 && strings.HasPrefix(strings.TrimSpace(t), dockerPrefix) {
			// A container or service takes docker://image from the matrix
			// as it does written out.
			vskip = len(dockerPrefix)
		}
		s.image(v.node, ctx+" ← matrix."+v.path, vskip)
	}
	return true
}

// compared reports whether an expression in the file compares the matrix
// property name with == or != (if: matrix.image == 'node:18'): pinned in
// the matrix, the value would no longer equal what it is compared with.
// The file is searched once per property.
func (s *scanner) compared(name string) bool {
	name = strings.ToLower(name)
	c, ok := s.comparedNames[name]
	if !ok {
		q := regexp.QuoteMeta(name)
		re := regexp.MustCompile(`(?i)matrix\.` + q + `\s*[!=]=|[!=]=\s*matrix\.` + q + `(?:[^A-Za-z0-9_-]|$)`)
		c = re.Match(s.f.Data)
		s.comparedNames[name] = c
	}
	return c
}

// matrixKey names a property of a matrix, and matrixRead holds its values
// (see matrixValues).
type (
	matrixKey struct {
		m    *yaml.Node
		name string
	}
	matrixRead struct {
		vals []matrixValue
		ok   bool
	}
)

// matrixValue is one value a matrix property takes, and its place in the
// matrix: image[1], include[0].image.
type matrixValue struct {
	node *yaml.Node
	path string
}

// matrixValues returns every value that the property name takes in a
// job's strategy.matrix: the items of its axis and the values that include
// entries give it. ok is false when a value may come from outside the file:
// the matrix, the axis, include or one of its entries is an expression
// (${{ fromJSON(…) }}), a value is an expression or not a scalar, or no
// value is written at all. Property names are read as GitHub reads them,
// regardless of case.
//
// exclude only removes combinations, so it decides nothing about the
// values; but an exclude entry matches a combination by its values, so its
// literal values are returned too: pinned with the others, they still match.
func matrixValues(m *yaml.Node, name string) (vals []matrixValue, ok bool) {
	m = yamlref.Deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, false
	}
	taken := 0 // values that are not exclude entries'
	for _, p := range yamlref.Entries(m) {
		switch {
		case p.Name == "exclude":
			if yamlref.IsNull(p.Value) || p.Value.Kind != yaml.SequenceNode {
				continue
			}
			read := make(map[*yaml.Node]bool)
			for i, e := range p.Value.Content {
				// An entry repeated by alias holds the values read already.
				if e = yamlref.Deref(e); read[e] {
					continue
				}
				read[e] = true
				for _, q := range yamlref.Entries(e) {
					if strings.EqualFold(q.Name, name) && literal(q.Value) {
						vals = append(vals, matrixValue{q.Value, yamlref.Key(yamlref.Index("exclude", i), q.Name)})
					}
				}
			}
		case p.Name == "include":
			if yamlref.IsNull(p.Value) {
				continue
			}
			if p.Value.Kind != yaml.SequenceNode {
				return nil, false
			}
			read := make(map[*yaml.Node]bool)
			for i, e := range p.Value.Content {
				e = yamlref.Deref(e)
				if e == nil || e.Kind != yaml.MappingNode {
					return nil, false
				}
				if read[e] {
					continue
				}
				read[e] = true
				for _, q := range yamlref.Entries(e) {
					if !strings.EqualFold(q.Name, name) {
						continue
					}
					if !literal(q.Value) {
						return nil, false
					}
					vals = append(vals, matrixValue{q.Value, yamlref.Key(yamlref.Index("include", i), q.Name)})
					taken++
				}
			}
		case strings.EqualFold(p.Name, name):
			axis := p.Value
			if axis == nil || axis.Kind != yaml.SequenceNode || len(axis.Content) == 0 {
				return nil, false
			}
			for i, v := range axis.Content {
				if v = yamlref.Deref(v); !literal(v) {
					return nil, false
				}
				vals = append(vals, matrixValue{v, yamlref.Index(p.Name, i)})
				taken++
			}
		}
	}
	return vals, taken > 0
}

// literal reports whether a matrix value is written in the file: a scalar
// that is not null and holds no expression.
func literal(n *yaml.Node) bool {
	v, ok := yamlref.Text(n)
	return ok && !strings.Contains(v, "${{")
}

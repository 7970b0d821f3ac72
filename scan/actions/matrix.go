package actions

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/scan/internal/yamlref"
)

// matrixRE matches a value that is one matrix property and nothing else:
// ${{ matrix.image }} or ${{ matrix['image'] }}, "matrix" in any case as
// GitHub reads it. A property inside a longer value (node:${{
// matrix.version }}) builds a reference the file does not write whole.
var matrixRE = regexp.MustCompile(`^\$\{\{\s*(?i:matrix)\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*'([A-Za-z_][A-Za-z0-9_-]*)'\s*\])\s*\}\}$`)

// matrixImages reports the images that the value ${{ matrix.<name> }} of
// the scalar use takes, when the job's matrix writes every one of them: one
// reference per value, at the value in the matrix and edited there, with
// the context of the use, an arrow and the value's place in the matrix
// (jobs.test.container ← matrix.image[1]). It returns false, and reports
// nothing, when the value is not a matrix property or any value it may
// take is not written in the file. Whether the values stay editable is
// decided once the whole file is read (see protectMatrix).
func (s *scanner) matrixImages(use *yaml.Node, value, ctx string, skip int) bool {
	m := matrixRE.FindStringSubmatch(value)
	if m == nil {
		return false
	}
	name := m[1] + m[2]
	s.imageUses[use] = true
	// Jobs that share a matrix by alias read it once per property.
	key := matrixKey{s.matrix, strings.ToLower(name)}
	read, done := s.matrices[key]
	if !done {
		read.vals, read.ok = matrixValues(s.matrix, name)
		s.matrices[key] = read
	}
	vals, ok := read.vals, read.ok
	if !ok {
		return false
	}
	s.seen[use] = true
	g := matrixGroup{name: name, first: len(s.res.Refs)}
	for _, v := range vals {
		vskip := 0
		if t, _ := yamlref.Text(v.node); skip == 0 && strings.HasPrefix(strings.TrimSpace(t), dockerPrefix) {
			// A container or service takes docker://image from the matrix
			// as it does written out.
			vskip = len(dockerPrefix)
		}
		s.image(v.node, ctx+" ← matrix."+v.path, vskip)
	}
	g.end = len(s.res.Refs)
	s.groups = append(s.groups, g)
	return true
}

// matrixGroup is the references read from the values of one matrix
// property at one use: s.res.Refs[first:end].
type matrixGroup struct {
	name       string
	first, end int
}

// matrixUse is a place where an expression reads a matrix property.
type matrixUse struct {
	// name is the property, lowercased; "" when the expression reads the
	// whole matrix or an index it computes (toJSON(matrix),
	// matrix[inputs.key]), which may be any property.
	name string
	node *yaml.Node
	line int
	ctx  string
	expr string
}

// matrixUseRE finds where an expression reads the matrix: matrix.image,
// matrix['image'], matrix["image"], in any case; matrix[…] with a computed
// index or matrix alone reads any property (group 5 or none of 2 to 5).
var matrixUseRE = regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9_.-])(matrix\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*|\*)|\[\s*(?:'([^']*)'|"([^"]*)")\s*\]|(\[))?)`)

// protectMatrix takes the edit spans away from the values of a matrix
// property that the file uses anywhere else than whole where an image
// belongs (the uses matrixImages reads): in a condition, a comparison, a
// script, a name or a cache key a digest appended to the value would
// change what the job does. The references stay, with the first such use
// in NotEditable.
func (s *scanner) protectMatrix(docs []*yaml.Node) {
	if len(s.groups) == 0 {
		return
	}
	var uses []matrixUse
	visited := make(map[*yaml.Node]bool)
	for _, doc := range docs {
		s.collectUses(doc, "", false, visited, &uses, 0)
	}
	for _, g := range s.groups {
		lower := strings.ToLower(g.name)
		for _, u := range uses {
			if u.name != "" && u.name != lower || s.imageUses[u.node] {
				continue
			}
			why := fmt.Sprintf("matrix.%s is also used at line %d (%s: %s), which a digest would change", g.name, u.line, u.ctx, u.expr)
			if u.name == "" {
				why = fmt.Sprintf("the whole matrix is read at line %d (%s: %s), where a digest in matrix.%s would change it", u.line, u.ctx, u.expr, g.name)
			}
			for i := g.first; i < g.end; i++ {
				r := &s.res.Refs[i]
				if r.Dynamic {
					continue
				}
				r.Edit = nil
				if r.NotEditable == "" {
					r.NotEditable = why
				}
			}
			break
		}
	}
}

// collectUses appends the matrix uses in the expressions under n, in file
// order: inside ${{ }} in any value, and anywhere in the value of an if:
// key, which GitHub reads as an expression without them. Nodes are read
// where they are written; an alias is followed only when it is an if:
// value, which is an expression there whatever it is where written.
func (s *scanner) collectUses(n *yaml.Node, ctx string, isIf bool, visited map[*yaml.Node]bool, uses *[]matrixUse, depth int) {
	if n == nil || depth > 256 {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			cctx := ctx
			if n.Kind == yaml.SequenceNode {
				cctx = yamlref.Index(ctx, i)
			}
			s.collectUses(c, cctx, false, visited, uses, depth+1)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name, _ := yamlref.Text(yamlref.Deref(k))
			cctx := yamlref.Key(ctx, name)
			if yamlref.IsMerge(k) {
				cctx = ctx
			}
			s.collectUses(v, cctx, name == "if", visited, uses, depth+1)
		}
	case yaml.AliasNode:
		if t := yamlref.Deref(n); isIf && t != nil && t.Kind == yaml.ScalarNode {
			s.scalarUses(t, ctx, true, uses)
		}
	case yaml.ScalarNode:
		if visited[n] {
			return
		}
		visited[n] = true
		s.scalarUses(n, ctx, isIf, uses)
	}
}

// scalarUses appends the matrix uses in the expressions of the scalar n.
func (s *scanner) scalarUses(n *yaml.Node, ctx string, isIf bool, uses *[]matrixUse) {
	v, ok := yamlref.Text(n)
	if !ok || !strings.Contains(strings.ToLower(v), "matrix") {
		return
	}
	var exprs []string
	if isIf && !strings.Contains(v, "${{") {
		exprs = []string{v}
	}
	for rest := v; ; {
		i := strings.Index(rest, "${{")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			exprs = append(exprs, rest[i:])
			break
		}
		exprs = append(exprs, rest[i:i+j+2])
		rest = rest[i+j+2:]
	}
	start, end := s.f.Extent(n)
	raw := s.f.Data[start:max(start, end)]
	from := 0
	for _, e := range exprs {
		for _, m := range matrixUseRE.FindAllStringSubmatchIndex(e, -1) {
			u := matrixUse{node: n, ctx: ctx, expr: oneLine(e)}
			switch {
			case m[4] >= 0:
				u.name = strings.ToLower(e[m[4]:m[5]])
				if u.name == "*" {
					u.name = ""
				}
			case m[6] >= 0:
				u.name = strings.ToLower(e[m[6]:m[7]])
			case m[8] >= 0:
				u.name = strings.ToLower(e[m[8]:m[9]])
			}
			u.line = n.Line
			text := e[m[2]:m[3]]
			if k := bytes.Index(raw[from:], []byte(text)); k >= 0 {
				u.line, _ = s.f.Index.Position(start + from + k)
				from += k + len(text)
			}
			*uses = append(*uses, u)
		}
	}
}

// oneLine shortens an expression for a message: on one line, at most 60
// characters.
func oneLine(e string) string {
	e = strings.Join(strings.Fields(e), " ")
	if r := []rune(e); len(r) > 60 {
		e = string(r[:59]) + "…"
	}
	return e
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

package gitlab

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/scan/internal/yamlref"
)

// variable is one entry of a variables: section.
type variable struct {
	value string
	// expand is false for expand: false, whose value GitLab takes literally.
	expand bool
}

// variables reads a variables: mapping. A value is a scalar, or a mapping
// with value: (and description:, options:, expand:).
func variables(n *yaml.Node) map[string]*variable {
	vars := make(map[string]*variable)
	for _, p := range yamlref.Entries(n) {
		name, v := p.Name, p.Value
		switch {
		case v == nil:
		case v.Kind == yaml.ScalarNode:
			val, _ := yamlref.Text(v) // a null value is an empty string
			vars[name] = &variable{value: val, expand: true}
		case v.Kind == yaml.MappingNode:
			val := yamlref.Get(v, "value")
			s, _ := yamlref.Text(val)
			e := true
			if x, ok := yamlref.Text(yamlref.Get(v, "expand")); ok && x == "false" {
				e = false
			}
			vars[name] = &variable{value: s, expand: e}
		}
	}
	return vars
}

// scope is the set of variables visible where an image is named: a job's
// own, then the inherited top-level ones.
type scope struct {
	vars   map[string]*variable
	parent *scope
	// inherit filters the parent's variables: nil inherits all of them.
	inherit func(name string) bool
}

// child returns the scope of a job: its variables: over those of the
// templates it extends (see templates), over the top level's filtered by
// inherit: variables:.
func (sc *scope) child(t *templates, job *yaml.Node) *scope {
	c := &scope{vars: t.variables(job), parent: sc}
	inh := yamlref.Get(yamlref.Get(job, "inherit"), "variables")
	switch {
	case inh == nil:
	case inh.Kind == yaml.ScalarNode && inh.Value == "false":
		c.inherit = func(string) bool { return false }
	case inh.Kind == yaml.SequenceNode:
		allowed := make(map[string]bool)
		for _, item := range inh.Content {
			if v, ok := yamlref.Text(yamlref.Deref(item)); ok {
				allowed[v] = true
			}
		}
		c.inherit = func(name string) bool { return allowed[name] }
	}
	return c
}

// templates resolves extends: within one document.
type templates struct {
	doc *yaml.Node
	// memo holds each job's resolved variables, so that shared templates
	// are resolved once however many jobs extend them.
	memo map[*yaml.Node]map[string]*variable
	// active marks the jobs being resolved, to cut extends: cycles.
	active map[*yaml.Node]bool
}

func newTemplates(doc *yaml.Node) *templates {
	return &templates{doc: doc, memo: make(map[*yaml.Node]map[string]*variable), active: make(map[*yaml.Node]bool)}
}

// variables returns a job's variables: over those of the templates it
// extends, each after those of the templates it extends itself; a later
// template wins, as in GitLab. Templates defined in other files are not
// known here.
func (t *templates) variables(job *yaml.Node) map[string]*variable {
	if vars, ok := t.memo[job]; ok {
		return vars
	}
	vars := make(map[string]*variable)
	t.active[job] = true
	ext := yamlref.Get(job, "extends")
	names := []*yaml.Node{ext}
	if ext != nil && ext.Kind == yaml.SequenceNode {
		names = ext.Content
	}
	for _, n := range names {
		name, ok := yamlref.Text(yamlref.Deref(n))
		if !ok {
			continue
		}
		tmpl := yamlref.Get(t.doc, name)
		if tmpl == nil || tmpl.Kind != yaml.MappingNode || t.active[tmpl] {
			continue
		}
		for k, v := range t.variables(tmpl) {
			vars[k] = v
		}
	}
	for k, v := range variables(yamlref.Get(job, "variables")) {
		vars[k] = v
	}
	delete(t.active, job)
	t.memo[job] = vars
	return vars
}

// lookup finds a variable, innermost scope first.
func (sc *scope) lookup(name string) *variable {
	if v := sc.vars[name]; v != nil {
		return v
	}
	if sc.parent != nil && (sc.inherit == nil || sc.inherit(name)) {
		return sc.parent.lookup(name)
	}
	return nil
}

// Limits on expansion, so that variables naming each other many times over
// (a "billion laughs") cost little: how deeply values may name other
// variables, and how long an expanded value may grow (no image name is near).
const (
	maxDepth  = 10
	maxLength = 4096
)

// expand substitutes $NAME and ${NAME} the way GitLab does for image names
// ($$ is a literal $). used reports whether the text named a variable;
// static is false when one had no value in this file, or the text holds an
// interpolation ($[[ … ]]) or a form GitLab does not expand here.
func (sc *scope) expand(s string) (out string, used, static bool) {
	return sc.expandDepth(s, 0)
}

func (sc *scope) expandDepth(s string, depth int) (out string, used, static bool) {
	if !strings.Contains(s, "$") {
		return s, false, true
	}
	if depth > maxDepth || len(s) > maxLength {
		return "", true, false
	}
	var b strings.Builder
	static = true
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		used = true
		var name string
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i += 2
			continue
		case next == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 || !isName(s[i+2:i+end]) {
				return "", true, false
			}
			name, i = s[i+2:i+end], i+end+1
		case next == '[':
			return "", true, false
		case isNameStart(next):
			j := i + 1
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			name, i = s[i+1:j], j
		default:
			b.WriteByte('$')
			i++
			continue
		}
		v := sc.lookup(name)
		if v == nil {
			return "", true, false
		}
		val := v.value
		if v.expand {
			var ok bool
			if val, _, ok = sc.expandDepth(val, depth+1); !ok {
				return "", true, false
			}
		}
		if b.WriteString(val); b.Len() > maxLength {
			return "", true, false
		}
	}
	return b.String(), used, static
}

func isName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

func isNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameChar(c byte) bool { return isNameStart(c) || '0' <= c && c <= '9' }

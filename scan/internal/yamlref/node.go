package yamlref

import (
	"iter"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Deref follows aliases (*anchor) to the node they name, so that a value
// written once and reused by alias is read like any other.
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// IsMerge reports whether a mapping key is the YAML merge key <<, as
// yaml.v3 decodes it (and so compose-go, Helm and Kubernetes read it): a
// plain << (which the parser tags !!merge), or one tagged ! or !!merge. A
// quoted "<<" is an ordinary key, and so is any other value tagged !!merge
// (!!merge image: x is the key image).
func IsMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge"
}

// Pair is one key of a mapping.
type Pair struct {
	// Name is the key's value: the value of the scalar it names when the
	// key is an alias (*k : x), as YAML decoders read it.
	Name string
	// Key is the key node as written, an alias included: its comments and
	// its position are those of this entry.
	Key *yaml.Node
	// Value is the value, read through an alias.
	Value *yaml.Node
}

// Entries lists a mapping's keys in file order, followed by the keys it
// merges in with "<<: *anchor" (or a list of anchors, earlier ones first)
// that it does not set itself, as YAML merge semantics say. A key the
// mapping itself repeats is listed each time. Values are dereferenced; keys
// that are not scalars, through an alias or not, are left out: no key a
// scanner reads is one.
func Entries(m *yaml.Node) []Pair {
	var out []Pair
	var have map[string]bool
	for p, merged := range pairs(m) {
		if merged && have == nil {
			have = make(map[string]bool, len(out))
			for _, q := range out {
				have[q.Name] = true
			}
		}
		if merged && have[p.Name] {
			continue
		}
		if have != nil {
			have[p.Name] = true
		}
		p.Value = Deref(p.Value)
		out = append(out, p)
	}
	return out
}

// Lookup returns the key and value nodes for key in mapping m (through an
// alias), looking through merge keys when m does not hold key itself, as
// Entries reads them. The key and the value are returned as written: either
// may be an alias.
//
// This is how YAML decoders read a mapping, yaml.v3 (compose-go, Helm,
// Kubernetes) and Psych (GitLab) alike: an alias used as a key is the key
// it names (*k : x, where &k image, is image: x; the anchor's name means
// nothing), and merges are followed however deeply merged mappings merge
// others. Each mapping is read once, so that anchors merged many times
// over (a "billion laughs") cost no more than the file's size, and a
// mapping that merges itself ends the search.
func Lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	for p := range pairs(m) {
		if p.Name == key {
			return p.Key, p.Value
		}
	}
	return nil, nil
}

// Get returns the dereferenced value of key in mapping m (see Lookup), or nil.
func Get(m *yaml.Node, key string) *yaml.Node {
	_, v := Lookup(m, key)
	return Deref(v)
}

// pairs yields the keys of m and then, depth first, those of the mappings
// it merges (merged is true for those), in the order in which the first of
// two equal names is the one YAML reads. Values are as written; merge keys
// and keys that are not scalars are not yielded.
func pairs(m *yaml.Node) iter.Seq2[Pair, bool] {
	return func(yield func(Pair, bool) bool) {
		m = Deref(m)
		if m == nil || m.Kind != yaml.MappingNode {
			return
		}
		// todo holds the merged mappings still to read, the next one last.
		var buf [8]*yaml.Node
		todo := buf[:0]
		var read nodeSet
		for merged := false; ; merged = true {
			first := len(todo)
			for i := 0; i+1 < len(m.Content); i += 2 {
				k, v := m.Content[i], m.Content[i+1]
				if IsMerge(k) {
					todo = appendMerged(todo, v)
					continue
				}
				if name, ok := keyName(k); ok && !yield(Pair{Name: name, Key: k, Value: v}, merged) {
					return
				}
			}
			if len(todo) == 0 {
				return
			}
			slices.Reverse(todo[first:]) // the first one merged is read first
			read.add(m)
			for m = nil; m == nil && len(todo) > 0; {
				m, todo = todo[len(todo)-1], todo[:len(todo)-1]
				if read.has(m) {
					m = nil
				}
			}
			if m == nil {
				return
			}
		}
	}
}

// nodeSet is a set of nodes that allocates nothing while it is small, as
// the mappings one lookup merges nearly always are.
type nodeSet struct {
	few  [8]*yaml.Node
	n    int
	many map[*yaml.Node]bool
}

func (s *nodeSet) add(n *yaml.Node) {
	switch {
	case s.many != nil:
		s.many[n] = true
	case s.n < len(s.few):
		s.few[s.n] = n
		s.n++
	default:
		s.many = make(map[*yaml.Node]bool, 2*len(s.few))
		for _, f := range s.few {
			s.many[f] = true
		}
		s.many[n] = true
	}
}

func (s *nodeSet) has(n *yaml.Node) bool {
	if s.many != nil {
		return s.many[n]
	}
	return slices.Contains(s.few[:s.n], n)
}

// appendMerged appends the mappings a merge key's value v names: a
// mapping, or a list of them, through aliases.
func appendMerged(todo []*yaml.Node, v *yaml.Node) []*yaml.Node {
	switch v = Deref(v); {
	case v == nil:
	case v.Kind == yaml.MappingNode:
		todo = append(todo, v)
	case v.Kind == yaml.SequenceNode:
		for _, e := range v.Content {
			if e = Deref(e); e != nil && e.Kind == yaml.MappingNode {
				todo = append(todo, e)
			}
		}
	}
	return todo
}

// keyName returns the name a mapping key gives its entry: a scalar's
// value, through an alias.
func keyName(k *yaml.Node) (string, bool) {
	if k = Deref(k); k == nil || k.Kind != yaml.ScalarNode {
		return "", false
	}
	return k.Value, true
}

// Text returns the value of a scalar that is not null, whatever its style:
// the script in a block scalar (run: |) is its text.
func Text(n *yaml.Node) (string, bool) {
	n = Deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// Str is Text for a value that reads as one word: a !!binary does not
// count, and a block scalar (| or >) counts only when its value is one
// word with no blank and no line break in it, as a stripped block (|- or
// >-) of one line has it: the line break that | and > keep, a blank line
// before the word or extra indentation is part of the value, which is then
// no image, tag or path (see BlockLines). Numbers and booleans count, as
// written: tag: 1.20 is "1.20".
func Str(n *yaml.Node) (string, bool) {
	n = Deref(n)
	if n != nil && n.Tag == "!!binary" {
		return "", false
	}
	if n != nil && isBlock(n) {
		v := n.Value
		if v == "" || strings.ContainsFunc(v, unicode.IsSpace) || n.Tag == "!!null" {
			return "", false
		}
		return v, true
	}
	return Text(n)
}

// String is Str for a string scalar (tag !!str): an image field holding 12
// or true is not an image.
func String(n *yaml.Node) (string, bool) {
	n = Deref(n)
	if n == nil || n.Tag != "!!str" {
		return "", false
	}
	return Str(n)
}

// IsNull reports whether n is an absent value (nothing written, ~ or null).
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// Key extends a context path with a mapping key.
func Key(ctx, key string) string {
	if ctx == "" {
		return key
	}
	return ctx + "." + key
}

// Index extends a context path with a sequence index.
func Index(ctx string, i int) string {
	return ctx + "[" + strconv.Itoa(i) + "]"
}

// PathOf returns the context path at which target is written inside root
// (aliases are not followed), or "" when it is not there.
func PathOf(root, target *yaml.Node) string {
	p, _ := pathOf(root, target, "", 0)
	return p
}

func pathOf(n, target *yaml.Node, ctx string, depth int) (string, bool) {
	if n == target {
		return ctx, true
	}
	if n == nil || depth > 64 {
		return "", false
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, ok := pathOf(c, target, ctx, depth+1); ok {
				return p, true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			c := Key(ctx, k.Value)
			if IsMerge(k) {
				c = ctx // an inline merged mapping reads as part of this one
			}
			if p, ok := pathOf(n.Content[i+1], target, c, depth+1); ok {
				return p, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, ok := pathOf(c, target, Index(ctx, i), depth+1); ok {
				return p, true
			}
		}
	}
	return "", false
}

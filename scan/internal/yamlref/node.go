package yamlref

import (
	"strconv"

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

// IsMerge reports whether a mapping key is the YAML merge key <<: the parser
// tags a plain << as !!merge, while a quoted "<<" is an ordinary key.
func IsMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && (k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0))
}

// Pair is one key and its (dereferenced) value in a mapping.
type Pair struct {
	Key, Value *yaml.Node
}

// Entries lists a mapping's keys in file order, followed by the keys it merges
// in with "<<: *anchor" that it does not set itself. Values are dereferenced.
func Entries(m *yaml.Node) []Pair {
	return entriesDepth(m, 0, nil)
}

// maxMerge bounds how deeply merged mappings may merge others in turn.
const maxMerge = 64

// entriesDepth is Entries for a mapping merged depth levels down. A mapping
// merged more than once adds nothing the first time did not: visited keeps
// it from being expanded again.
func entriesDepth(m *yaml.Node, depth int, visited map[*yaml.Node]bool) []Pair {
	m = Deref(m)
	if m == nil || m.Kind != yaml.MappingNode || visited[m] {
		return nil
	}
	var out []Pair
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if IsMerge(k) {
			v = Deref(v)
			switch {
			case v == nil:
			case v.Kind == yaml.MappingNode:
				merges = append(merges, v)
			case v.Kind == yaml.SequenceNode:
				for _, e := range v.Content {
					if e = Deref(e); e != nil && e.Kind == yaml.MappingNode {
						merges = append(merges, e)
					}
				}
			}
			continue
		}
		out = append(out, Pair{k, Deref(v)})
	}
	if len(merges) == 0 || depth >= maxMerge {
		return out
	}
	if visited == nil {
		visited = make(map[*yaml.Node]bool)
	}
	visited[m] = true
	have := make(map[string]bool, len(out))
	for _, p := range out {
		have[p.Key.Value] = true
	}
	for _, mm := range merges {
		for _, p := range entriesDepth(mm, depth+1, visited) {
			if !have[p.Key.Value] {
				have[p.Key.Value] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// Get returns the dereferenced value of key in mapping m, following merge
// keys as Entries does. Any key node whose value is key matches, an alias
// used as a key included; Lookup is the stricter reading.
func Get(m *yaml.Node, key string) *yaml.Node {
	m = Deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	merges := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch k := m.Content[i]; {
		case k.Value == key:
			return Deref(m.Content[i+1])
		case IsMerge(k):
			merges = true
		}
	}
	if !merges {
		return nil
	}
	for _, p := range Entries(m) {
		if p.Key.Value == key {
			return p.Value
		}
	}
	return nil
}

// GetPair is Get that also returns the key node (its comments matter).
func GetPair(m *yaml.Node, key string) (k, v *yaml.Node) {
	for _, p := range Entries(m) {
		if p.Key.Value == key {
			return p.Key, p.Value
		}
	}
	return nil, nil
}

// Lookup returns the key and value nodes for key in mapping m, looking
// through merge keys (<<: *anchor, or a list of anchors, earlier ones first)
// when m does not hold key itself, as YAML merge semantics say. Only a
// scalar key matches, and merges are followed 8 levels deep. The value is
// returned as written (it may be an alias).
func Lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	return lookup(Deref(m), key, 0)
}

func lookup(m *yaml.Node, key string, depth int) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode || depth > 8 {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if c := m.Content[i]; c.Kind == yaml.ScalarNode && c.Value == key && c.Tag != "!!merge" {
			return c, m.Content[i+1]
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !IsMerge(m.Content[i]) {
			continue
		}
		src := Deref(m.Content[i+1])
		if src == nil {
			continue
		}
		if src.Kind == yaml.SequenceNode {
			for _, s := range src.Content {
				if k, v := lookup(Deref(s), key, depth+1); k != nil {
					return k, v
				}
			}
			continue
		}
		if k, v := lookup(src, key, depth+1); k != nil {
			return k, v
		}
	}
	return nil, nil
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

// Str is Text for a value written inline: a block scalar or a !!binary does
// not count. Numbers and booleans do, as written: tag: 1.20 is "1.20".
func Str(n *yaml.Node) (string, bool) {
	n = Deref(n)
	if n != nil && (n.Tag == "!!binary" || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0) {
		return "", false
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

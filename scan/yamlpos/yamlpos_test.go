package yamlpos

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestScalar(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc string
		exact     bool
		want      string
	}{
		{"plain", "image: nginx:1\n", true, "nginx:1"},
		{"double quoted", "image: \"nginx:1\"\n", true, "nginx:1"},
		{"single quoted", "image: 'nginx:1'\n", true, "nginx:1"},
		{"escaped", "image: \"nginx:\\x31\"\n", false, ""},
		{"anchor", "image: &img golang:1.26\n", true, "golang:1.26"},
		{"tag", "image: !!str golang:1.26\n", true, "golang:1.26"},
		{"anchor and tag", "image: &a !!str 'golang:1.26'\n", true, "golang:1.26"},
		{"multibyte before", "name: \"é\"\nimage: {x: ü, y: nginx:1}\n", true, "nginx:1"},
		{"crlf", "a: b\r\nimage: nginx:1\r\n", true, "nginx:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs, err := Documents("x.yaml", []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			n := find(docs[0], "image")
			if n == nil {
				n = find(docs[0], "y")
			}
			ix := NewIndex([]byte(tc.doc))
			sp, ok := ix.Scalar(n)
			if !ok {
				t.Fatal("no span")
			}
			if sp.Exact != tc.exact {
				t.Fatalf("exact = %v, want %v", sp.Exact, tc.exact)
			}
			if tc.exact && tc.doc[sp.Start:sp.End] != tc.want {
				t.Errorf("span holds %q, want %q", tc.doc[sp.Start:sp.End], tc.want)
			}
		})
	}
}

func find(n *yaml.Node, key string) *yaml.Node {
	if v := Get(n, key); v != nil {
		if v.Kind == yaml.MappingNode {
			return find(v, "y")
		}
		return v
	}
	return nil
}

func TestPosition(t *testing.T) {
	t.Parallel()
	ix := NewIndex([]byte("ab\ncd\n\nef"))
	for off, want := range map[int][2]int{0: {1, 1}, 2: {1, 3}, 3: {2, 1}, 6: {3, 1}, 7: {4, 1}, 8: {4, 2}} {
		l, c := ix.Position(off)
		if l != want[0] || c != want[1] {
			t.Errorf("Position(%d) = %d:%d, want %d:%d", off, l, c, want[0], want[1])
		}
	}
	if got := ix.Offset(4, 2); got != 8 {
		t.Errorf("Offset(4,2) = %d", got)
	}
	if got := ix.Offset(9, 1); got != -1 {
		t.Errorf("Offset past the end = %d", got)
	}
}

func TestDocumentsError(t *testing.T) {
	t.Parallel()
	_, err := Documents("x.yaml", []byte("a: b\nc: [\n"))
	if err == nil || err.Error() == "" {
		t.Fatal("want an error")
	}
}

func FuzzScalar(f *testing.F) {
	f.Add("image: &a !!str 'x:1'\n")
	f.Add("a: [b, \"c\", 'd']\n")
	f.Fuzz(func(t *testing.T, doc string) {
		docs, err := Documents("f.yaml", []byte(doc))
		if err != nil {
			return
		}
		ix := NewIndex([]byte(doc))
		var walk func(n *yaml.Node, depth int)
		walk = func(n *yaml.Node, depth int) {
			if depth > 50 {
				return
			}
			if sp, ok := ix.Scalar(n); ok && sp.Exact {
				if sp.Start < 0 || sp.End > len(doc) || doc[sp.Start:sp.End] != n.Value {
					t.Fatalf("exact span [%d,%d) does not hold %q", sp.Start, sp.End, n.Value)
				}
			}
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		}
		for _, d := range docs {
			walk(d, 0)
		}
	})
}

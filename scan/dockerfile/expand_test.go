package dockerfile

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// testScope holds a static S="nginx", an empty E, a declared but unset U,
// and the platform argument TARGETARCH, which is dynamic.
func testScope() *scope {
	sc := newScope(unset)
	sc.vars["S"] = &variable{state: static, value: "nginx"}
	sc.vars["E"] = &variable{state: static, value: ""}
	sc.vars["U"] = &variable{state: unset}
	return sc
}

func expandString(t *testing.T, sc *scope, word string) (expansion, error) {
	t.Helper()
	l := &logical{text: word}
	return sc.expand(shell.NewLex('\\'), '\\', located{s: word, l: l})
}

func TestExpand(t *testing.T) {
	t.Parallel()
	type result struct {
		Value   string
		Dynamic bool
		Whole   bool
		Err     bool
	}
	tests := []struct {
		word string
		want result
	}{
		{"alpine:3", result{Value: "alpine:3"}},
		{"$S:1", result{Value: "nginx:1"}},
		{"${S}", result{Value: "nginx", Whole: true}},
		{"${U}", result{Dynamic: true, Value: "${U}"}},
		{"$U", result{Dynamic: true, Value: "$U"}},
		{"${U:-busybox}", result{Value: "busybox", Whole: true}},
		{"${U-busybox}", result{Value: "busybox", Whole: true}},
		{"${E:-busybox}", result{Value: "busybox", Whole: true}},
		{"${E-busybox}", result{Value: "", Whole: true}},
		{"a${U:+b}c", result{Value: "ac"}},
		{"a${S:+b}c", result{Value: "abc"}},
		{"a${S:+$U}c", result{Dynamic: true, Value: "a$Uc"}},
		{"${S:-$U}", result{Value: "nginx", Whole: true}},
		{"${U:-$S}:2", result{Value: "nginx:2"}},
		{"${U:-$TARGETARCH}", result{Dynamic: true, Value: "${U:-$TARGETARCH}"}},
		{"alpine:$TARGETARCH", result{Dynamic: true, Value: "alpine:$TARGETARCH"}},
		{"${UNDECLARED:-x}", result{Value: "x", Whole: true}},
		{"$UNDECLARED", result{Dynamic: true, Value: "$UNDECLARED"}},
		{"'$S'", result{Value: "$S"}},
		{`"$S"`, result{Value: "nginx"}},
		{`\$S`, result{Value: "$S"}},
		{"${S%x}", result{Value: "ngin", Whole: true}},
		{"\x80", result{Err: true}},
		{"${U%x}", result{Dynamic: true, Value: "${U%x}"}},
		{"${S", result{Err: true}},
		{"${S:=x}", result{Err: true}},
		{"${}", result{Err: true}},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			t.Parallel()
			x, err := expandString(t, testScope(), tt.word)
			got := result{Value: x.value, Dynamic: x.dynamic, Whole: x.whole, Err: err != nil}
			if got.Err {
				got.Value = ""
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("expand(%q) (-want +got):\n%s", tt.word, diff)
			}
		})
	}
}

// FuzzExpand checks the static/dynamic judgement against BuildKit's lexer:
// a word judged static must expand the same whatever the dynamic variable
// holds.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"$S", "${U:-x}", "${TARGETARCH:+y}", "a${S#n}", "'$U'", `"${U-$S}"`, "${S/n/m}", "${E:?}", "x\\$U"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, word string) {
		sc := testScope()
		x, err := expandString(t, sc, word)
		if err != nil || x.dynamic {
			return
		}
		for _, arch := range []string{"amd64", "arm64/v8", ""} {
			env := shell.EnvsFromSlice([]string{"S=nginx", "E=", "TARGETARCH=" + arch})
			got, _, err := shell.NewLex('\\').ProcessWord(word, env)
			if err != nil {
				return
			}
			if got != x.value {
				t.Fatalf("%q judged static as %q, but with TARGETARCH=%q it is %q", word, x.value, arch, got)
			}
		}
	})
}

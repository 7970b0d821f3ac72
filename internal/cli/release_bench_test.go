package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stet-dev/stet/internal/testregistry"
)

// benchImage is an Alpine-like image of about 120 packages whose versions
// depend on gen, plus an app layer of its own.
func benchImage(b *testing.B, i, gen int) v1.Image {
	b.Helper()
	var db strings.Builder
	for p := 0; p < 120; p++ {
		fmt.Fprintf(&db, "C:Q1AAAA=\nP:pkg%03d\nV:1.%d.%d-r0\nA:x86_64\nS:1\nI:1\nT:package %d\no:pkg%03d\n\n", p, p%7, gen*(p%3), p, p)
	}
	base, err := demoLayer(map[string]string{
		"etc/os-release":       "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.0\n",
		"lib/apk/db/installed": db.String(),
		"usr/lib/blob":         strings.Repeat(fmt.Sprintf("%d-%d ", i, gen), 20000),
	})
	if err != nil {
		b.Fatal(err)
	}
	app, err := demoLayer(map[string]string{fmt.Sprintf("srv/app%d", i): strings.Repeat("x", 50000+gen)})
	if err != nil {
		b.Fatal(err)
	}
	img, err := mutate.Append(demoEmpty(),
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{CreatedBy: "ADD rootfs / "}},
		mutate.Addendum{Layer: app, MediaType: types.OCILayer, History: v1.History{CreatedBy: "COPY app /srv/"}})
	if err != nil {
		b.Fatal(err)
	}
	img, err = demoConfig(img, func(c *v1.Config) { c.Env = []string{fmt.Sprintf("GEN=%d", gen)} })
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// BenchmarkReleaseDiff is `stet release diff r1 r2` of two releases of 20
// images each, every image changed (package upgrades and a config change),
// with the layer cache warm: what a repeated "what changed" costs.
func BenchmarkReleaseDiff(b *testing.B) {
	b.Setenv("DOCKER_CONFIG", b.TempDir())
	b.Setenv("XDG_CACHE_HOME", b.TempDir())
	host := testregistry.New(b)
	dir := b.TempDir()
	cfg := filepath.Join(dir, ".stet.yaml")
	if err := os.WriteFile(cfg, []byte("registries:\n  mirrors:\n    registry.example.com: "+host+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	run := func(args ...string) string {
		var out, errb strings.Builder
		if code := Run(ctx, append([]string{"--config", cfg}, args...), strings.NewReader(""), &out, &errb); code != ExitOK && code != ExitFindings {
			b.Fatalf("%v: exit %d\n%s%s", args, code, out.String(), errb.String())
		}
		return out.String()
	}
	for gen := 1; gen <= 2; gen++ {
		args := []string{"release", "create", "--app", "fleet"}
		for i := 0; i < 20; i++ {
			testregistry.Push(b, fmt.Sprintf("%s/svc%02d:stable", host, i), benchImage(b, i, gen))
			args = append(args, "--image", fmt.Sprintf("svc%02d=registry.example.com/svc%02d:stable", i, i))
		}
		run(args...)
	}
	out := run("release", "diff", "r1", "r2") // warms the layer cache
	if !strings.HasPrefix(out, "fleet r1 → fleet r2: 20 of 20 image(s) changed: 20 tag moved") {
		b.Fatalf("unexpected diff:\n%s", out)
	}
	b.ResetTimer()
	for b.Loop() {
		run("release", "diff", "r1", "r2")
	}
}

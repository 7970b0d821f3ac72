package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/spf13/cobra"
)

func newDemoCmd(a *app) *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Replay the nginx story end to end, offline, in a temporary directory",
		Long: `Demo replays the story stet exists for, in under a second and without the
network: a registry runs in-process on 127.0.0.1 standing in for Docker Hub
and the team's registry, and every step runs the real stet commands.

A team builds registry.example.com/shop:1 FROM nginx:1-alpine (nginx
1.17.1-r0), records release r1 and promotes it to production. Upstream
moves nginx:1-alpine to nginx 1.17.2-r0; a rebuild of the same Dockerfile
becomes r2, promoted. stet verify reports the moved tag (STET011); stet
release diff r1 r2 names the nginx upgrade and the base-image layer it came
with; stet release rollback --env production --render deploy/ restores
r1's exact digests without building anything, and the rendered manifest
shows it.

The temporary directory is removed at the end unless --keep is given.
Exit status 0 only when every step behaved as the story says.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), keep)
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory (its path is printed) to look around; the registry stops with the demo")
	return cmd
}

// demo is one run of the story.
type demo struct {
	ctx    context.Context
	out    io.Writer
	dir    string
	host   string
	pushes atomic.Int64
}

// demoFailure is a step that did not behave as the story says.
type demoFailure struct{ step, msg string }

func (e *demoFailure) Error() string { return fmt.Sprintf("demo step %q: %s", e.step, e.msg) }

func runDemo(ctx context.Context, out io.Writer, keep bool) error {
	start := time.Now()
	dir, err := os.MkdirTemp("", "stet-demo-")
	if err != nil {
		return withCode(ExitFailure, fmt.Errorf("creating the demo directory: %w", err))
	}
	if keep {
		defer fmt.Fprintf(out, "\nThe demo repository is kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	d := &demo{ctx: ctx, out: out, dir: dir}
	stop, err := d.startRegistry()
	if err != nil {
		return withCode(ExitFailure, err)
	}
	defer stop()
	if err := d.story(); err != nil {
		var f *demoFailure
		if errors.As(err, &f) {
			return withCode(ExitFindings, err)
		}
		return withCode(ExitFailure, err)
	}
	fmt.Fprintf(out, "\nEvery step behaved as the story says (%.1fs).\n", time.Since(start).Seconds())
	return nil
}

// startRegistry serves go-containerregistry's registry on 127.0.0.1,
// counting the writes it receives (a build would push).
func (d *demo) startRegistry() (func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the demo registry: %w", err)
	}
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodPatch {
				d.pushes.Add(1)
			}
			reg.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go srv.Serve(ln)
	d.host = ln.Addr().String()
	return func() { srv.Close() }, nil
}

func (d *demo) say(format string, args ...any) { fmt.Fprintf(d.out, format+"\n", args...) }

// stet runs a stet command in-process, as a user would type it, and shows
// the command line with the demo directory left out.
func (d *demo) stet(args ...string) (code int, stdout, stderr string) {
	full := append([]string{"--config", filepath.Join(d.dir, ".stet.yaml")}, args...)
	var o, e bytes.Buffer
	code = Run(d.ctx, full, strings.NewReader(""), &o, &e)
	shown := make([]string, len(args))
	for i, a := range args {
		shown[i] = strings.TrimPrefix(strings.TrimPrefix(a, d.dir), string(filepath.Separator))
		if shown[i] == "" {
			shown[i] = "."
		}
	}
	d.say("  $ stet %s", strings.Join(shown, " "))
	return code, o.String(), e.String()
}

func (d *demo) path(p string) string { return filepath.Join(d.dir, filepath.FromSlash(p)) }

func (d *demo) story() error {
	for p, content := range map[string]string{
		".stet.yaml": "# The demo registry on 127.0.0.1 stands in for Docker Hub and the team's registry.\n" +
			"registries:\n  mirrors:\n    docker.io: " + d.host + "\n    registry.example.com: " + d.host + "\n",
		"Dockerfile":      "FROM nginx:1-alpine\nCOPY html/ /usr/share/nginx/html/\n",
		"html/index.html": "<h1>shop</h1>\n",
		"deploy/shop.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  template:\n    spec:\n      containers:\n" +
			"        - name: shop\n          image: registry.example.com/shop:1 # deployed by CD\n          ports: [{containerPort: 80}]\n",
	} {
		if err := os.MkdirAll(filepath.Dir(d.path(p)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(d.path(p), []byte(content), 0o644); err != nil {
			return err
		}
	}
	d.say("stet demo: the nginx story, replayed in %s against a registry on %s\n", d.dir, d.host)

	// 1. The base image.
	base1, err := demoBase("1.17.1-r0", "1.17.1")
	if err != nil {
		return err
	}
	b1, err := d.push("library/nginx:1-alpine", base1)
	if err != nil {
		return err
	}
	d.say("1. Upstream publishes nginx:1-alpine with nginx 1.17.1-r0: %s", shortDigest(b1))

	// 2. The app, built on it.
	app1, err := demoApp(base1, b1)
	if err != nil {
		return err
	}
	s1, err := d.push("shop:1", app1)
	if err != nil {
		return err
	}
	d.say("2. The team builds registry.example.com/shop:1 FROM nginx:1-alpine: %s", shortDigest(s1))
	if code, _, e := d.stet("lock", d.dir); code != ExitOK {
		return d.fail("lock", code, e)
	}
	d.say("     stet.lock records nginx:1-alpine → %s and shop:1 → %s", shortDigest(b1), shortDigest(s1))

	// 3. Release r1, promoted.
	d.say("\n3. Release r1 records the exact digests and goes to production")
	if err := d.release(s1); err != nil {
		return err
	}
	if code, o, e := d.stet("release", "promote", "r1", "--env", "production"); code != ExitOK {
		return d.fail("promote r1", code, e)
	} else {
		d.say("     %s", firstLine(o))
	}

	// 4. Upstream moves the tag.
	base2, err := demoBase("1.17.2-r0", "1.17.2")
	if err != nil {
		return err
	}
	b2, err := d.push("library/nginx:1-alpine", base2)
	if err != nil {
		return err
	}
	d.say("\n4. Upstream moves nginx:1-alpine to nginx 1.17.2-r0: %s → %s", shortDigest(b1), shortDigest(b2))

	// 5. A rebuild of the same Dockerfile.
	app2, err := demoApp(base2, b2)
	if err != nil {
		return err
	}
	s2, err := d.push("shop:1", app2)
	if err != nil {
		return err
	}
	d.say("\n5. A rebuild of the same Dockerfile pushes shop:1 again: %s; release r2 goes to production", shortDigest(s2))
	if err := d.release(s2); err != nil {
		return err
	}
	if code, o, e := d.stet("release", "promote", "r2", "--env", "production"); code != ExitOK {
		return d.fail("promote r2", code, e)
	} else {
		d.say("     %s", firstLine(o))
	}
	d.say("     Now 1 request in 10,000 gets a 502.")

	// 6. verify catches the moved tag.
	d.say("\n6. stet verify compares stet.lock with the registry")
	code, o, e := d.stet("verify", d.dir)
	if code != ExitFindings || !strings.Contains(o, "STET011") || !strings.Contains(o, "nginx:1-alpine moved") {
		return d.fail("verify", code, o+e)
	}
	for _, l := range strings.Split(o, "\n") {
		if strings.Contains(l, "STET011") {
			d.say("     %s", strings.TrimPrefix(strings.TrimPrefix(l, d.dir), string(filepath.Separator)))
		}
	}

	// 7. release diff names the upgrade.
	d.say("\n7. stet release diff explains what changed between r1 and r2")
	code, o, e = d.stet("release", "diff", "r1", "r2", "--no-cache")
	upgrade, verdict := "", ""
	for _, l := range strings.Split(o, "\n") {
		if strings.HasPrefix(l, "shop: ") {
			verdict = l
		}
		if strings.Contains(l, "nginx") && strings.Contains(l, "1.17.1-r0 → 1.17.2-r0") && strings.Contains(l, "base image") {
			var cols []string
			for _, c := range strings.Split(strings.TrimSpace(l), "  ") {
				if c = strings.TrimSpace(c); c != "" {
					cols = append(cols, c)
				}
			}
			if len(cols) == 4 {
				upgrade = fmt.Sprintf("%s %s %s (from the %s)", cols[0], cols[1], cols[2], cols[3])
			}
		}
	}
	if code != ExitFindings || upgrade == "" || verdict == "" {
		return d.fail("release diff", code, o+e)
	}
	d.say("     %s", firstLine(o))
	d.say("     %s", verdict)
	d.say("       %s", upgrade)

	// 8. The rollback: r1's digests, no build.
	d.say("\n8. stet release rollback redeploys r1's digests; nothing is built")
	before := d.pushes.Load()
	code, o, e = d.stet("release", "rollback", "--env", "production", "--render", d.path("deploy"))
	if code != ExitOK || !strings.Contains(o, "shop r2 → shop r1") {
		return d.fail("rollback", code, o+e)
	}
	if n := d.pushes.Load() - before; n != 0 {
		return &demoFailure{"rollback", fmt.Sprintf("%d write(s) reached the registry during the rollback: something was built or pushed", n)}
	}
	d.say("     %s", firstLine(o))
	manifest, err := os.ReadFile(d.path("deploy/shop.yaml"))
	if err != nil {
		return err
	}
	line := ""
	for _, l := range strings.Split(string(manifest), "\n") {
		if strings.Contains(l, "image:") {
			line = strings.TrimSpace(l)
		}
	}
	want := "image: registry.example.com/shop:1@" + s1 + " # deployed by CD"
	if line != want {
		return &demoFailure{"rollback", fmt.Sprintf("deploy/shop.yaml says %q, want %q", line, want)}
	}
	d.say("     deploy/shop.yaml: %s", line)
	d.say("     That is r1's digest, %s: the image with nginx 1.17.1-r0, exactly as it ran before.", shortDigest(s1))
	d.say("     0 images were built or pushed during the rollback.")
	code, o, e = d.stet("release", "history", "production")
	if code != ExitOK || strings.Count(o, "\n") != 3 || !strings.Contains(firstLine(o), "rollback") {
		return d.fail("history", code, o+e)
	}
	for _, l := range strings.Split(strings.TrimSpace(o), "\n") {
		f := strings.Fields(l)
		if len(f) >= 6 {
			d.say("     %s %s %s %s", f[0], f[3], f[4], f[5])
		}
	}
	return nil
}

// release records a release of shop and checks it names digest.
func (d *demo) release(digest string) error {
	code, o, e := d.stet("release", "create", "--app", "shop", "--image", "shop=registry.example.com/shop:1", "--annotate", "story=nginx")
	if code != ExitOK || !strings.Contains(o, "registry.example.com/shop:1@"+digest) {
		return d.fail("release create", code, o+e)
	}
	d.say("     %s", firstLine(o))
	return nil
}

func (d *demo) fail(step string, code int, output string) error {
	return &demoFailure{step, fmt.Sprintf("exit %d:\n%s", code, output)}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// push writes img to the demo registry and returns its digest.
func (d *demo) push(repoTag string, img v1.Image) (string, error) {
	r, err := name.ParseReference(d.host+"/"+repoTag, name.Insecure)
	if err != nil {
		return "", err
	}
	if err := remote.Write(r, img, remote.WithContext(d.ctx)); err != nil {
		return "", fmt.Errorf("pushing %s: %w", repoTag, err)
	}
	dg, err := img.Digest()
	if err != nil {
		return "", err
	}
	return dg.String(), nil
}

var demoEpoch = time.Date(2019, 7, 11, 0, 0, 0, 0, time.UTC)

// demoBase is nginx:1-alpine at one nginx version: Alpine's files with a
// real apk database (lib/apk/db/installed in apk's documented format).
func demoBase(apkVersion, nginxVersion string) (v1.Image, error) {
	pkgs := [][3]string{
		{"musl", "1.1.22-r2", "the musl c library (libc) implementation"},
		{"busybox", "1.30.1-r2", "Size optimized toolbox of many common UNIX utilities"},
		{"alpine-baselayout", "3.1.2-r0", "Alpine base dir structure and init scripts"},
		{"nginx", apkVersion, "HTTP and reverse proxy server (stable version)"},
	}
	var db strings.Builder
	for _, p := range pkgs {
		sum := sha1.Sum([]byte(p[0] + "-" + p[1]))
		fmt.Fprintf(&db, "C:Q1%s\nP:%s\nV:%s\nA:x86_64\nS:%d\nI:%d\nT:%s\nU:https://alpinelinux.org\nL:MIT\no:%s\nm:Natanael Copa <ncopa@alpinelinux.org>\nt:1562774400\nc:%x\n\n",
			base64.StdEncoding.EncodeToString(sum[:]), p[0], p[1], 4096+len(p[0]), 16384+len(p[1]), p[2], p[0], sum[:20])
	}
	layer, err := demoLayer(map[string]string{
		"etc/os-release":        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.1\nPRETTY_NAME=\"Alpine Linux v3.10\"\n",
		"lib/apk/db/installed":  db.String(),
		"usr/sbin/nginx":        "nginx " + nginxVersion + "\n",
		"etc/nginx/nginx.conf":  "events {}\nhttp { server { listen 80; root /usr/share/nginx/html; } }\n",
		"usr/share/nginx/html/": "",
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(demoEmpty(), mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
		History: v1.History{CreatedBy: "/bin/sh -c #(nop) ADD file:9a4f77dfaba7fd2aa78186e4ef0e7486ad55101cefc1fabbc1b385601bb38920 in / ", Created: v1.Time{Time: demoEpoch}}})
	if err != nil {
		return nil, err
	}
	return demoConfig(img, func(c *v1.Config) {
		c.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=" + nginxVersion}
		c.Cmd = []string{"nginx", "-g", "daemon off;"}
		c.ExposedPorts = map[string]struct{}{"80/tcp": {}}
		c.StopSignal = "SIGTERM"
	})
}

// demoApp is the shop image: the base's layers and config, one COPY layer
// on top, and the base annotations BuildKit writes.
func demoApp(base v1.Image, baseDigest string) (v1.Image, error) {
	layer, err := demoLayer(map[string]string{"usr/share/nginx/html/index.html": "<h1>shop</h1>\n"})
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
		History: v1.History{CreatedBy: "COPY html/ /usr/share/nginx/html/ # buildkit", Created: v1.Time{Time: demoEpoch}}})
	if err != nil {
		return nil, err
	}
	out, ok := mutate.Annotations(img, map[string]string{
		"org.opencontainers.image.base.name":   "docker.io/library/nginx:1-alpine",
		"org.opencontainers.image.base.digest": baseDigest,
	}).(v1.Image)
	if !ok {
		return nil, errors.New("annotating the demo image")
	}
	return out, nil
}

func demoEmpty() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

func demoConfig(img v1.Image, edit func(*v1.Config)) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: demoEpoch}
	edit(&cf.Config)
	return mutate.ConfigFile(img, cf)
}

// demoLayer is a gzip layer of the files, in path order, with fixed times
// so that every run builds the same digests.
func demoLayer(files map[string]string) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range slices.Sorted(maps.Keys(files)) {
		h := &tar.Header{Name: p, Mode: 0o644, ModTime: demoEpoch, Typeflag: tar.TypeReg, Size: int64(len(files[p])), Format: tar.FormatPAX}
		if strings.HasSuffix(p, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, files[p]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, tarball.WithCompressedCaching)
}

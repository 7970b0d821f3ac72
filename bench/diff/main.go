// Command diff measures `stet diff` on large images: it generates two images
// of one 400 MB layer of 100,000 files each, with the dpkg database at the
// end of the tar and B differing from A only in that database, serves them
// from a registry on 127.0.0.1, and times the stet binary on the first diff
// (cold layer cache), the same diff again (warm cache), two images that
// share the 400 MB layer as their base and differ in a small top layer
// (stored as the same blob, so the base is not read), and the same two with
// B read from a docker archive (as `crane pull` writes it) instead of the
// registry, cold and warm: such an archive names no blobs, so the DiffID
// its config claims for the shared layer is checked by reading it (and the
// registry's copy, until the cache records its blob).
// It prints wall time and peak RSS for each and removes its data afterwards.
//
//	go run ./bench/diff [-files 100000] [-size 400] [-runs 3]
package main

import (
	"archive/tar"
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/stet-dev/stet/bench/internal/benchutil"
)

func main() {
	// Peak RSS is read from wait4 by a small intermediate process: a child
	// exec'd straight from this (large) process would inherit its
	// high-water mark.
	if len(os.Args) > 1 && os.Args[1] == "-rss-wrap" {
		os.Exit(rssWrap(os.Args[2:]))
	}
	files := flag.Int("files", 100_000, "files per large layer")
	sizeMB := flag.Int("size", 400, "size of the large layer in MB (uncompressed file content)")
	runs := flag.Int("runs", 3, "runs per measurement (the best is reported with the worst)")
	keep := flag.Bool("keep", false, "keep the generated data (printed) instead of removing it")
	flag.Parse()
	if err := run(*files, *sizeMB, *runs, *keep); err != nil {
		log.Fatal(err)
	}
}

func run(files, sizeMB, runs int, keep bool) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "stet-bench-diff-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("data in", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	stet := filepath.Join(tmp, "stet")
	build := exec.Command("go", "build", "-o", stet, "./cmd/stet")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building stet: %w", err)
	}
	status, err := os.ReadFile("inventory/testdata/debian-bookworm-minbase/var/lib/dpkg/status")
	if err != nil {
		return fmt.Errorf("run from the module root: %w", err)
	}
	osRelease, err := os.ReadFile("inventory/testdata/debian-bookworm-minbase/etc/os-release")
	if err != nil {
		return err
	}
	statusB, err := bumpVersion(status, "bash", "5.2.15-2+b99")
	if err != nil {
		return err
	}
	fmt.Printf("generating two layers of %d files, %d MB each\n", files, sizeMB)
	t0 := time.Now()
	big := func(name string, db []byte) (v1.Layer, error) {
		return writeLayer(filepath.Join(tmp, name), func(tw *tar.Writer) error {
			if err := fill(tw, files, sizeMB<<20, name); err != nil {
				return err
			}
			if err := add(tw, "etc/os-release", osRelease); err != nil {
				return err
			}
			return add(tw, "var/lib/dpkg/status", db)
		})
	}
	la, err := big("a.tar.gz", status)
	if err != nil {
		return err
	}
	lb, err := big("b.tar.gz", statusB)
	if err != nil {
		return err
	}
	topA, err := writeLayer(filepath.Join(tmp, "top-a.tar.gz"), func(tw *tar.Writer) error {
		return add(tw, "var/lib/dpkg/status", status)
	})
	if err != nil {
		return err
	}
	topB, err := writeLayer(filepath.Join(tmp, "top-b.tar.gz"), func(tw *tar.Writer) error {
		return add(tw, "var/lib/dpkg/status", statusB)
	})
	if err != nil {
		return err
	}
	fmt.Printf("generated in %s\n", time.Since(t0).Round(time.Millisecond))

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	blobs := filepath.Join(tmp, "registry")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	srv := &http.Server{Handler: registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(blobs)), registry.Logger(log.New(io.Discard, "", 0)))}
	go srv.Serve(lis)
	defer srv.Shutdown(ctx)
	host := lis.Addr().String()
	assemble := func(layers ...v1.Layer) (v1.Image, error) {
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		for i, l := range layers {
			var err error
			img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: fmt.Sprintf("bench layer %d", i)}})
			if err != nil {
				return nil, err
			}
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", "amd64"
		return mutate.ConfigFile(img, cf)
	}
	push := func(tag string, layers ...v1.Layer) error {
		img, err := assemble(layers...)
		if err != nil {
			return err
		}
		ref, err := name.ParseReference(host+"/bench:"+tag, name.Insecure)
		if err != nil {
			return err
		}
		return remote.Write(ref, img, remote.WithContext(ctx))
	}
	t0 = time.Now()
	for _, p := range []struct {
		tag    string
		layers []v1.Layer
	}{{"a", []v1.Layer{la}}, {"b", []v1.Layer{lb}}, {"base-a", []v1.Layer{la, topA}}, {"base-b", []v1.Layer{la, topB}}} {
		if err := push(p.tag, p.layers...); err != nil {
			return fmt.Errorf("pushing %s: %w", p.tag, err)
		}
	}
	fmt.Printf("pushed to %s in %s\n", host, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	archive := filepath.Join(tmp, "base-b.tar")
	imgB, err := assemble(la, topB)
	if err != nil {
		return err
	}
	tag, err := name.NewTag("example.test/bench:base-b")
	if err != nil {
		return err
	}
	if err := tarball.WriteToFile(archive, tag, imgB); err != nil {
		return fmt.Errorf("writing %s: %w", archive, err)
	}
	fmt.Printf("wrote base-b as a docker archive in %s\n", time.Since(t0).Round(time.Millisecond))
	// Wall time depends on what else the machine runs; CPU time less so.
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average %s", b)
	}
	fmt.Println()

	cache := filepath.Join(tmp, "cache")
	measure := func(label string, cold bool, a, b string) error {
		var walls, cpus []time.Duration
		var rss []int64
		for i := 0; i < runs; i++ {
			if cold {
				if err := os.RemoveAll(cache); err != nil {
					return err
				}
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			cmd := exec.Command(self, "-rss-wrap", stet, "diff", a, b)
			cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache, "DOCKER_CONFIG="+filepath.Join(tmp, "docker"))
			out := &strings.Builder{}
			var measured strings.Builder
			cmd.Stdout, cmd.Stderr = out, &measured
			err = cmd.Run()
			var wallNS, rssKB, cpuNS int64
			fmt.Sscanf(benchutil.LastLine(measured.String()), "%d %d %d", &wallNS, &rssKB, &cpuNS)
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				return fmt.Errorf("%s: stet diff exited with %v, want status 1:\n%s%s", label, err, out, measured.String())
			}
			if !strings.Contains(out.String(), "1 package upgraded") {
				return fmt.Errorf("%s: unexpected output:\n%s", label, out)
			}
			walls = append(walls, time.Duration(wallNS))
			cpus = append(cpus, time.Duration(cpuNS))
			rss = append(rss, rssKB)
			if i == 0 && label == "first diff (cold cache)" {
				fmt.Println(firstLines(out.String(), 6))
			}
		}
		minW, maxW, maxR, minC := walls[0], walls[0], rss[0], cpus[0]
		for i := range walls {
			minW, maxW, maxR, minC = min(minW, walls[i]), max(maxW, walls[i]), max(maxR, rss[i]), min(minC, cpus[i])
		}
		fmt.Printf("%-40s wall %7s (worst %7s)  cpu %7s  peak RSS %3d MB\n", label, minW.Round(time.Millisecond), maxW.Round(time.Millisecond), minC.Round(time.Millisecond), maxR/1024)
		return nil
	}
	reg := func(tag string) string { return host + "/bench:" + tag }
	if err := measure("first diff (cold cache)", true, reg("a"), reg("b")); err != nil {
		return err
	}
	if err := measure("same diff, warm cache", false, reg("a"), reg("b")); err != nil {
		return err
	}
	if err := measure("shared 400 MB base, small top differs", true, reg("base-a"), reg("base-b")); err != nil {
		return err
	}
	if err := measure("the same, B from a docker archive", true, reg("base-a"), "docker-archive:"+archive); err != nil {
		return err
	}
	if err := measure("the same, warm cache", false, reg("base-a"), "docker-archive:"+archive); err != nil {
		return err
	}
	return nil
}

// rssWrap runs a command, passing its stdout through, and prints its wall
// time in nanoseconds, peak RSS in KiB and CPU time (user+system) in
// nanoseconds on stderr's last line.
func rssWrap(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = os.Stdout
	var errb strings.Builder
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	fmt.Fprint(os.Stderr, errb.String())
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Fprintf(os.Stderr, "\n%d %d %d\n", wall.Nanoseconds(), ru.Maxrss, cpu.Nanoseconds())
	return cmd.ProcessState.ExitCode()
}

func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	return strings.Join(l[:min(n, len(l))], "\n")
}

// bumpVersion sets one package's Version in a dpkg status file.
func bumpVersion(status []byte, pkg, version string) ([]byte, error) {
	stanzas := strings.Split(string(status), "\n\n")
	for i, st := range stanzas {
		if !strings.HasPrefix(st, "Package: "+pkg+"\n") {
			continue
		}
		lines := strings.Split(st, "\n")
		for j, l := range lines {
			if strings.HasPrefix(l, "Version: ") {
				lines[j] = "Version: " + version
				stanzas[i] = strings.Join(lines, "\n")
				return []byte(strings.Join(stanzas, "\n\n")), nil
			}
		}
	}
	return nil, fmt.Errorf("no package %s in the status file", pkg)
}

// writeLayer writes a gzip tar layer to path and opens it as a layer.
func writeLayer(path string, body func(*tar.Writer) error) (v1.Layer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := gzip.NewWriter(bw)
	tw := tar.NewWriter(zw)
	if err := body(tw); err != nil {
		return nil, err
	}
	for _, c := range []io.Closer{tw, zw} {
		if err := c.Close(); err != nil {
			return nil, err
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return tarball.LayerFromFile(path)
}

func add(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// fill writes n files totalling size bytes whose content compresses about
// as well as binaries and libraries do: slices of a pool of random bytes
// mixed with words, at varying offsets so that files differ.
func fill(tw *tar.Writer, n, size int, seed string) error {
	per := size / n
	r := rand.New(rand.NewPCG(1, uint64(len(seed))))
	words := []string{"lib", "usr", "share", "locale", "error", "return", "static", "const", "void", "main", "init", "config"}
	pool := make([]byte, 8<<20)
	for j := 0; j < len(pool); {
		if r.IntN(3) == 0 {
			j += copy(pool[j:], words[r.IntN(len(words))])
		} else {
			pool[j] = byte(r.Uint32())
			j++
		}
	}
	for i := 0; i < n; i++ {
		off := r.IntN(len(pool) - per)
		if err := add(tw, fmt.Sprintf("usr/share/bench/d%03d/f%06d", i%1000, i), pool[off:off+per]); err != nil {
			return err
		}
	}
	return nil
}

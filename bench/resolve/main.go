// Command resolve measures stet's tag resolution on a realistic workload:
// a generated tree of Dockerfiles, compose files and Kubernetes manifests
// with 2,000 reference sites over 500 unique name:tag, resolved through a
// mirror against a local registry behind a proxy that adds 20 ms to every
// request and counts requests by kind.
//
// The registry and the proxy run in a child process so that the CPU time
// measured is stet's alone. Usage:
//
//	go run ./bench/resolve [-runs 5] [-latency 20ms] [-distribution]
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stet-dev/stet/bench/internal/benchutil"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/formats"
)

const (
	repos        = 100
	tagsPerRepo  = 5
	services     = 250 // each: a Dockerfile (2 sites), compose (3), deployment (3)
	mirrorSource = "docker.io"
)

func main() {
	serve := flag.Bool("serve", false, "internal: run the registry and proxy (child process)")
	runs := flag.Int("runs", 5, "timed resolutions (each with a fresh client: ping included)")
	latency := flag.Duration("latency", 20*time.Millisecond, "latency the proxy adds to every request")
	dist := flag.Bool("distribution", false, "use the Distribution registry binary instead of the in-process registry")
	platforms := flag.Bool("platforms", false, "record platforms as stet lock does (GET of each index, manifest and config of each image)")
	concurrency := flag.Int("concurrency", 0, "requests in flight per registry (0: registry.DefaultConcurrency)")
	flag.Parse()
	log.SetFlags(0)
	if *serve {
		if err := serveChild(*latency, *dist); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := run(*runs, *latency, *dist, *concurrency, *platforms); err != nil {
		log.Fatal(err)
	}
}

// imageName is the i-th unique reference as files write it.
func imageName(i int) string {
	return fmt.Sprintf("bench/svc-%03d:1.%d", i/tagsPerRepo, i%tagsPerRepo)
}

func run(runs int, latency time.Duration, dist bool, concurrency int, platforms bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tmp, err := os.MkdirTemp("", "stet-bench-resolve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	os.Setenv("DOCKER_CONFIG", filepath.Join(tmp, "docker")) // no credentials of the machine

	tree := filepath.Join(tmp, "tree")
	if err := writeTree(tree); err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"-serve", "-latency", latency.String()}
	if dist {
		args = append(args, "-distribution")
	}
	child := exec.CommandContext(ctx, self, args...)
	child.Stderr = os.Stderr
	in, _ := child.StdinPipe()
	outPipe, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { in.Close(); child.Wait() }()
	out := bufio.NewScanner(outPipe)
	if !out.Scan() {
		return fmt.Errorf("registry process failed to start")
	}
	proxyHost := strings.TrimSpace(out.Text())
	counts := func(cmd string) (map[string]int, error) {
		fmt.Fprintln(in, cmd)
		if !out.Scan() {
			return nil, fmt.Errorf("registry process exited")
		}
		var m map[string]int
		return m, json.Unmarshal(out.Bytes(), &m)
	}

	start := time.Now()
	report, err := scan.Walk(ctx, []string{tree}, scan.Options{Scanners: formats.Default()})
	if err != nil {
		return err
	}
	var refs []ref.Ref
	for _, f := range report.Files {
		if f.Err != nil {
			return f.Err
		}
		refs = append(refs, f.Refs...)
	}
	scanTime := time.Since(start)
	unique := map[string]bool{}
	for _, r := range refs {
		unique[r.Key()] = true
	}
	fmt.Printf("workload: %d files, %d reference sites, %d unique name:tag (scanned in %s)\n",
		len(report.Files), len(refs), len(unique), scanTime.Round(time.Millisecond))
	fmt.Printf("registry: %s behind a proxy adding %s per request; %s mirrored to %s/mirror; %d requests in flight per registry\n",
		map[bool]string{false: "in-process go-containerregistry", true: "Distribution"}[dist], latency, mirrorSource, proxyHost,
		cmp.Or(concurrency, registry.DefaultConcurrency))

	type sample struct {
		wall, cpu time.Duration
		counts    map[string]int
	}
	var samples []sample
	for i := range runs {
		if _, err := counts("reset"); err != nil {
			return err
		}
		cpu0 := benchutil.SelfCPU()
		t0 := time.Now()
		opts := []registry.Option{registry.WithMirrors(map[string]string{mirrorSource: proxyHost + "/mirror"}),
			registry.WithUserAgent("stet/bench")}
		if concurrency > 0 {
			opts = append(opts, registry.WithConcurrency(concurrency))
		}
		c, err := registry.New(opts...)
		if err != nil {
			return err
		}
		var ropts []resolve.Option
		if platforms {
			ropts = append(ropts, resolve.WithPlatforms())
		}
		r, err := resolve.New(c, ropts...)
		if err != nil {
			return err
		}
		res, err := r.Resolve(ctx, refs)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		wall := time.Since(t0)
		cpu := benchutil.SelfCPU() - cpu0
		if len(res.Results) != len(unique) {
			return fmt.Errorf("run %d: %d results for %d unique references", i+1, len(res.Results), len(unique))
		}
		m, err := counts("counts")
		if err != nil {
			return err
		}
		samples = append(samples, sample{wall, cpu, m})
		fmt.Printf("run %d: wall %s, CPU %s (%.3f ms per unique reference, %.3f ms per site), requests %s\n", i+1,
			wall.Round(time.Millisecond), cpu.Round(time.Millisecond),
			float64(cpu)/float64(time.Millisecond)/float64(len(unique)),
			float64(cpu)/float64(time.Millisecond)/float64(len(refs)), formatCounts(m))
	}
	slices.SortFunc(samples, func(a, b sample) int { return int(a.wall - b.wall) })
	med := samples[len(samples)/2]
	fmt.Printf("median: wall %s (target < 700ms), CPU %.3f ms per unique reference (target < 0.3 ms), requests %s (target: %d manifest + 1 ping)\n",
		med.wall.Round(time.Millisecond), float64(med.cpu)/float64(time.Millisecond)/float64(len(unique)),
		formatCounts(med.counts), len(unique))
	return nil
}

func formatCounts(m map[string]int) string {
	var parts []string
	total := 0
	for _, k := range slices.Sorted(mapKeys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		total += m[k]
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

func mapKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// writeTree writes services/svc-N/{Dockerfile,compose.yaml,deploy.yaml}:
// 2,000 sites cycling over the 500 unique references, 4 sites each.
func writeTree(dir string) error {
	site := 0
	next := func() string {
		s := imageName(site % (repos * tagsPerRepo))
		site++
		return s
	}
	for i := range services {
		d := filepath.Join(dir, "services", fmt.Sprintf("svc-%03d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		dockerfile := fmt.Sprintf("FROM %s AS build\nRUN make\n\nFROM %s\nCOPY --from=build /out /app\nCMD [\"/app\"]\n", next(), next())
		compose := fmt.Sprintf("services:\n  web:\n    image: %s\n  worker:\n    image: %s\n  cache:\n    image: \"%s\"\n", next(), next(), next())
		deploy := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-%03d
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: %s
      containers:
        - name: app
          image: %s
        - name: sidecar
          image: %s
`, i, next(), next(), next())
		for name, data := range map[string]string{"Dockerfile": dockerfile, "compose.yaml": compose, "deploy.yaml": deploy} {
			if err := os.WriteFile(filepath.Join(d, name), []byte(data), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// serveChild runs the registry and the proxy, pushes the images, prints
// the proxy host, then answers "counts" and "reset" lines on stdin with
// the proxy's request counts as JSON.
func serveChild(latency time.Duration, dist bool) error {
	host, stop, err := startRegistry(dist)
	if err != nil {
		return err
	}
	defer stop()
	if err := pushImages(host); err != nil {
		return err
	}
	p, stopProxy, err := startProxy(host, latency)
	if err != nil {
		return err
	}
	defer stopProxy()
	fmt.Println(p.Host)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		m := p.Counts()
		if in.Text() == "reset" {
			p.ResetCounts()
		}
		b, _ := json.Marshal(m)
		fmt.Println(string(b))
	}
	return nil
}

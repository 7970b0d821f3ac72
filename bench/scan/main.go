// Command scan generates a monorepo of 10,000 files (every format stet reads,
// mixed with ordinary source files, about 100 MB) and measures `stet refs` on
// it: wall time, CPU time, files/s, MB/s and peak RSS.
//
//	go run ./bench/scan [-files 10000] [-runs 5] [-keep DIR]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/stet-dev/stet/bench/internal/benchutil"
	"github.com/stet-dev/stet/internal/corpus"
)

func main() {
	files := flag.Int("files", 10000, "number of files in the generated tree")
	runs := flag.Int("runs", 5, "timed runs of stet refs")
	keep := flag.String("keep", "", "generate into this directory and keep it")
	flag.Parse()
	if err := run(*files, *runs, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench/scan:", err)
		os.Exit(1)
	}
}

func run(nfiles, runs int, keep string) error {
	root, err := benchutil.ModuleRoot()
	if err != nil {
		return err
	}
	dir, cleanup, err := benchutil.WorkDir(keep, "stet-bench-scan-")
	if err != nil {
		return err
	}
	defer cleanup()
	bin := filepath.Join(dir, "stet-bench")
	if err := benchutil.BuildStet(root, bin); err != nil {
		return err
	}
	tree := filepath.Join(dir, "repo")
	n, size, err := generate(filepath.Join(root, "testdata", "corpus"), tree, nfiles)
	if err != nil {
		return err
	}
	fmt.Printf("tree: %d files, %.1f MB in %s\n", n, float64(size)/1e6, tree)

	var walls []time.Duration
	var cpu time.Duration
	var maxRSS int64
	var refs int
	for i := range runs + 1 {
		cmd := exec.Command(bin, "refs", "--format", "json", ".")
		cmd.Dir = tree
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		cmd.Stderr = io.Discard
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		count := 0
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"file":`) {
				count++
			}
		}
		err = cmd.Wait()
		wall := time.Since(start)
		if err != nil && cmd.ProcessState.ExitCode() > 2 {
			return fmt.Errorf("stet refs: %w", err)
		}
		if i == 0 {
			continue // warm the page cache
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		walls = append(walls, wall)
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		maxRSS = max(maxRSS, ru.Maxrss*1024)
		refs = count
	}
	slices.Sort(walls)
	med := walls[len(walls)/2]
	fmt.Printf("stet refs: %d references\n", refs)
	fmt.Printf("wall: median %v (min %v, max %v over %d runs)\n", med.Round(time.Millisecond), walls[0].Round(time.Millisecond), walls[len(walls)-1].Round(time.Millisecond), len(walls))
	fmt.Printf("cpu: %v per run (%.2f cores busy)\n", (cpu / time.Duration(len(walls))).Round(time.Millisecond), float64(cpu)/float64(len(walls))/float64(med))
	fmt.Printf("throughput: %.0f files/s, %.1f MB/s\n", float64(n)/med.Seconds(), float64(size)/1e6/med.Seconds())
	fmt.Printf("peak RSS: %.1f MB\n", float64(maxRSS)/1e6)
	return nil
}

// generate fills dir with nfiles files: about 40% configuration files copied
// from the corpus (every format), the rest ordinary source files.
func generate(corpus, dir string, nfiles int) (int, int64, error) {
	byKind, err := readCorpus(corpus)
	if err != nil {
		return 0, 0, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var size int64
	write := func(p string, data []byte) error {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		size += int64(len(data))
		return os.WriteFile(p, data, 0o644)
	}
	if err := write(".gitignore", []byte("/build/\n*.log\n")); err != nil {
		return 0, 0, err
	}
	if err := os.MkdirAll(filepath.Join(dir, ".git"), 0o755); err != nil {
		return 0, 0, err
	}
	pick := func(kind string) []byte { k := byKind[kind]; return k[rng.IntN(len(k))] }
	source := func(n int) []byte {
		var b strings.Builder
		b.WriteString("package svc\n\n")
		for b.Len() < n {
			fmt.Fprintf(&b, "func handler%d(w http.ResponseWriter, r *http.Request) {\n\tfmt.Fprintf(w, %q, r.URL.Path)\n}\n\n", rng.IntN(1e6), "image: nginx:1-alpine %s")
		}
		return []byte(b.String())
	}
	count := 1
	for svc := 0; count < nfiles; svc++ {
		base := fmt.Sprintf("services/team%02d/svc%03d", svc%40, svc)
		entries := []struct {
			path string
			data func() []byte
		}{
			{"Dockerfile", func() []byte { return pick("dockerfile") }},
			{"docker-compose.yml", func() []byte { return pick("compose") }},
			{"deploy/deployment.yaml", func() []byte { return pick("k8s") }},
			{"deploy/extra.yaml", func() []byte { return pick("k8s") }},
			{"deploy/kustomization.yaml", func() []byte { return pick("kustomize") }},
			{"chart/Chart.yaml", func() []byte { return []byte("apiVersion: v2\nname: svc\nversion: 0.1.0\nappVersion: \"1.0.0\"\n") }},
			{"chart/values.yaml", func() []byte { return pick("helm-values") }},
			{".github/workflows/ci.yml", func() []byte { return pick("actions") }},
			{".gitlab-ci.yml", func() []byte { return pick("gitlab") }},
			{"config/app.yaml", func() []byte { return []byte("server:\n  port: 8080\n  image_cache: true\nfeatures: [a, b, c]\n") }},
			{"package.json", func() []byte { return []byte(`{"name": "svc", "version": "1.0.0"}` + "\n") }},
			{"README.md", func() []byte { return []byte("# svc\n\nRun with `docker run nginx:latest`.\n") }},
		}
		for _, e := range entries {
			if count >= nfiles {
				break
			}
			if err := write(filepath.Join(base, e.path), e.data()); err != nil {
				return 0, 0, err
			}
			count++
		}
		for i := 0; i < 13 && count < nfiles; i++ {
			if err := write(filepath.Join(base, fmt.Sprintf("internal/pkg%d/file%d.go", i%4, i)), source(5000+rng.IntN(10000))); err != nil {
				return 0, 0, err
			}
			count++
		}
	}
	return count, size, nil
}

func readCorpus(root string) (map[string][][]byte, error) {
	files, err := corpus.List(root)
	if err != nil {
		return nil, err
	}
	out := map[string][][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f.Path))
		if err != nil {
			return nil, err
		}
		out[f.Kind] = append(out[f.Kind], data)
	}
	return out, nil
}

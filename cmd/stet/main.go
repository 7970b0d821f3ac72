// Command stet makes container delivery immutable: it finds mutable image and
// action references, pins them to digests, keeps a lockfile, explains what
// changed inside images and records releases by digest.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stet-dev/stet/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

func openAt(t *testing.T, path string) *Ledger {
	t.Helper()
	l, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestContract(t *testing.T) {
	releasetest.Run(t, func(t *testing.T) func() release.Ledger {
		path := filepath.Join(t.TempDir(), ".stet", "ledger.db")
		return func() release.Ledger { return openAt(t, path) }
	})
}
